import { ValidationError } from '../../core/errors.js';

/** Throws `VALIDATION_FAILED` for a rule zod cannot express where it is checked. */
export function invalid(what: string, path: (string | number)[], message: string): never {
  throw new ValidationError(`invalid ${what}: ${message}`, [{ path, message, code: 'custom' }]);
}
