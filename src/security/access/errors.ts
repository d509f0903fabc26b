/**
 * The two failures specific to access control. Both carry only secret-free details: rule ids,
 * role names, reasons; never attribute values.
 */
import { FabricaError, type FabricaErrorOptions } from '../../core/errors.js';

/**
 * The user may not perform the action on the resource. Status 403. `details` holds the decision's
 * explanation (reason, matched rule id, role path) so an operator can answer "why was I denied";
 * an HTTP layer facing untrusted clients may choose to render only the code.
 *
 * @example
 * ```ts
 * import { AccessDeniedError } from 'digital-fabrica/security';
 * const err = new AccessDeniedError('read denied', { details: { reason: 'no-matching-rule' } });
 * console.log(err.code, err.status); // 'ACCESS_DENIED' 403
 * ```
 */
export class AccessDeniedError extends FabricaError {
  constructor(message: string, options: FabricaErrorOptions = {}) {
    super('ACCESS_DENIED', message, options);
  }
}

/**
 * A role definition would make role inheritance cyclic; nothing was changed. Status 422.
 * `cycle` lists the roles around the loop, starting and ending with the role being defined.
 *
 * @example
 * ```ts
 * import { RoleCycleError } from 'digital-fabrica/security';
 * const err = new RoleCycleError(['a', 'b', 'a']);
 * console.log(err.code, err.cycle.join(' -> ')); // 'ACCESS_ROLE_CYCLE' 'a -> b -> a'
 * ```
 */
export class RoleCycleError extends FabricaError {
  /** The roles around the loop, first and last being the role being defined. */
  readonly cycle: readonly string[];

  constructor(cycle: readonly string[], options: Omit<FabricaErrorOptions, 'details'> = {}) {
    super('ACCESS_ROLE_CYCLE', `role inheritance would be cyclic: ${cycle.join(' -> ')}`, { ...options, details: { cycle: [...cycle] } });
    this.cycle = cycle;
  }
}
