import type { FabricaEventBus, FabricaEventName, TaskEvent } from '../core/events.js';
import type { TaskUpdate } from '../adapters/queue.js';

/** The event a task update is announced as: the spec's names, plus failed and dead. */
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

/** The event payload of an update (no payloads or results: events may cross processes and reach clients). */
export function taskEventOf(update: TaskUpdate): TaskEvent {
  return { taskId: update.taskId, tenantId: update.tenantId, type: update.type, state: update.state, attempt: update.attempt, at: update.at };
}

/** Emits `update` on `events` under its event name (no-op without a bus). */
export function emitUpdate(events: FabricaEventBus | undefined, update: TaskUpdate): void {
  if (events === undefined) return;
  events.emit(eventNameOf(update) as 'task:updated', taskEventOf(update));
}
