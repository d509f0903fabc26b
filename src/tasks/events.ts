import type { FabricaEventBus, FabricaEventName, TaskEvent } from '../core/events.js';
import type { TaskUpdate } from '../adapters/queue.js';

/**
 * The event a task update is announced as: the spec's names, plus failed and dead.
 *
 * @example
 * ```ts
 * import { eventNameOf } from 'digital-fabrica/tasks';
 * eventNameOf({ taskId: 't', tenantId: 'acme', type: 'ping', state: 'dead', attempt: 3, at: 0 }); // 'task:dead'
 * ```
 */
export function eventNameOf(update: TaskUpdate): FabricaEventName {
  switch (update.state) {
    case 'completed':
      return 'task:completed';
    case 'failed':
      return 'task:failed';
    case 'dead':
      return 'task:dead';
    default:
      return 'task:updated';
  }
}

/**
 * The event payload of an update (no payloads or results: events may cross processes and reach clients).
 *
 * @example
 * ```ts
 * import { taskEventOf } from 'digital-fabrica/tasks';
 * taskEventOf({ taskId: 't', tenantId: 'acme', type: 'ping', state: 'queued', attempt: 1, at: 0, reason: 'retry' });
 * ```
 */
export function taskEventOf(update: TaskUpdate): TaskEvent {
  return { taskId: update.taskId, tenantId: update.tenantId, type: update.type, state: update.state, attempt: update.attempt, at: update.at };
}

/**
 * Emits `update` on `events` under its event name (no-op without a bus).
 *
 * @example
 * ```ts
 * import { FabricaEventBus } from 'digital-fabrica';
 * import { emitUpdate } from 'digital-fabrica/tasks';
 * const events = new FabricaEventBus();
 * events.on('task:completed', (e) => console.log(e.taskId));
 * emitUpdate(events, { taskId: 't1', tenantId: 'acme', type: 'ping', state: 'completed', attempt: 1, at: Date.now() });
 * ```
 */
export function emitUpdate(events: FabricaEventBus | undefined, update: TaskUpdate): void {
  if (events === undefined) return;
  events.emit(eventNameOf(update) as 'task:updated', taskEventOf(update));
}
