/**
 * Task listing. The tasks module's `TaskService.list` (the queue's own listing) is used whenever
 * the task service has one; this index is the fallback for a host-supplied task service without
 * `list`: the HTTP layer then keeps its own index of the tasks created through it:
 * one document per task in the StorageAdapter, key `<tenant>/<taskId>` (task ids are UUIDv7, so
 * keys sort by creation time and storage cursors give stable pagination). State, type and owner
 * filters and the `read` check are applied to the live task; entries whose task was purged are
 * dropped lazily. In that fallback, tasks created without the HTTP layer are not listed.
 */
import { hasErrorCode, ValidationError } from '../../core/errors.js';
import type { Task } from '../../adapters/queue.js';
import type { StorageAdapter } from '../../adapters/storage.js';
import type { HttpTaskListQuery, HttpTasks } from '../services.js';

/** Namespace of the index. */
export const TASK_INDEX_NAMESPACE = 'http.tasks';

/** Records a task created through the API. */
export async function indexTask(storage: StorageAdapter | undefined, task: { readonly tenantId: string; readonly taskId: string }): Promise<void> {
  await storage?.put(TASK_INDEX_NAMESPACE, `${task.tenantId}/${task.taskId}`, { t: 1 });
}

/** Forgets a deleted task. */
export async function unindexTask(storage: StorageAdapter | undefined, task: { readonly tenantId: string; readonly id: string }): Promise<void> {
  await storage?.delete(TASK_INDEX_NAMESPACE, `${task.tenantId}/${task.id}`);
}

/** One page of tasks the caller may read. */
export async function listTasks(
  tasks: HttpTasks,
  storage: StorageAdapter | undefined,
  query: HttpTaskListQuery,
  mayRead: (task: Task) => boolean,
  scanLimit: number,
): Promise<{ items: Task[]; nextCursor: string | null }> {
  const matches = (task: Task) =>
    (query.state === undefined || task.state === query.state) &&
    (query.type === undefined || task.type === query.type) &&
    (query.ownerId === undefined || task.ownerId === query.ownerId) &&
    mayRead(task);
  if (tasks.list) {
    const page = await tasks.list(query);
    return { items: page.items.filter(matches), nextCursor: page.cursor };
  }
  if (storage === undefined) {
    throw new ValidationError('task listing needs `storage` in the HTTP services (or a task service with `list`)', [
      { path: ['storage'], message: 'missing', code: 'custom' },
    ]);
  }
  const items: Task[] = [];
  let cursor = query.cursor ?? null;
  let scanned = 0;
  do {
    // Ask for exactly what is still missing: a storage cursor can only resume after a whole page.
    const page = await storage.list(TASK_INDEX_NAMESPACE, { prefix: `${query.tenantId}/`, limit: query.limit - items.length, ...(cursor === null ? {} : { cursor }) });
    cursor = page.cursor;
    scanned += page.items.length;
    const found = await Promise.all(
      page.items.map(async (doc) => {
        const id = doc.key.slice(query.tenantId.length + 1);
        try {
          return await tasks.get(id);
        } catch (err) {
          if (!hasErrorCode(err, 'NOT_FOUND')) throw err;
          await storage.delete(TASK_INDEX_NAMESPACE, doc.key);
          return null;
        }
      }),
    );
    for (const task of found) if (task !== null && matches(task)) items.push(task);
  } while (items.length < query.limit && cursor !== null && scanned < scanLimit);
  return { items, nextCursor: cursor };
}
