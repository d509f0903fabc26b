import { ConflictError, FabricaError, NotFoundError } from '../../core/errors.js';

/**
 * The errors every queue backend throws for the same situations, with the same codes and
 * details. Messages never carry payloads, results or lease tokens.
 */

/** Why a lease no longer holds, as far as the backend can tell. */
export type LeaseLostReason = 'expired' | 'superseded' | 'not-active' | 'not-found';

/** `TASK_LEASE_LOST`: the lease expired, the task was redelivered, cancelled, finished or deleted. */
export function leaseLostError(taskId: string, reason: LeaseLostReason, state?: string): FabricaError {
  return new FabricaError('TASK_LEASE_LOST', `lease on task ${taskId} is no longer held (${reason})`, {
    details: { taskId, reason, ...(state === undefined ? {} : { state }) },
  });
}

/** `NOT_FOUND` for an unknown task id. */
export function taskNotFound(taskId: string): NotFoundError {
  return new NotFoundError(`task ${taskId} does not exist`, { details: { taskId } });
}

/** `CONFLICT` for an operation the task's state does not allow. */
export function taskStateConflict(taskId: string, state: string, operation: string): ConflictError {
  return new ConflictError(`cannot ${operation} task ${taskId} in state ${state}`, { details: { taskId, state, operation } });
}
