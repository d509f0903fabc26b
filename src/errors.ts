/**
 * Errors only: the error classes and codes, for hosts that want to catch and map them without
 * importing the rest of the SDK.
 *
 * ```ts
 * import { isFabricaError, hasErrorCode } from 'digital-fabrica/errors';
 * ```
 *
 * @module
 */
export {
  FabricaError,
  isFabricaError,
  hasErrorCode,
  ERROR_DEFAULTS,
  ValidationError,
  NotFoundError,
  ConflictError,
  AdapterUnavailableError,
  SchemaMismatchError,
  AdapterClosedError,
  PayloadTooLargeError,
  type FabricaErrorCode,
  type FabricaErrorOptions,
  type ValidationIssue,
} from './core/errors.js';
