/** `POST /api/tasks`, `GET /api/tasks`, `GET|DELETE /api/tasks/:id`, `PUT /api/tasks/:id/assign|complete`. */
import { z } from 'zod';
import { hasErrorCode, NotFoundError, ValidationError } from '../../core/errors.js';
import type { EnqueueRequest, Task, TaskLease } from '../../adapters/queue.js';
import type { JsonValue } from '../../adapters/storage.js';
import { defineRoute, type AnyRoute, type RouteContext } from '../internal/route.js';
import { taskResource, tasksResource } from '../internal/paths.js';
import { indexTask, listTasks, unindexTask } from '../internal/task-index.js';
import {
  assignBodySchema,
  completeBodySchema,
  createTaskBodySchema,
  idParamsSchema,
  leaseSchema,
  listTasksQuerySchema,
  noQuerySchema,
  taskPageSchema,
  taskResponseSchema,
  taskUpdateSchema,
} from '../schemas.js';

/** Cache key of a task's representation. */
export const taskCacheKey = (prefix: string, id: string): string => `${prefix}task:${id}`;

// One message for a missing task and for one the caller may not read, so the two answers are identical.
const notFoundMessage = (id: string): string => `task ${id} does not exist`;

// What the routes on /api/tasks/:id say about a task the caller may not see (GitHub does the same for private repositories).
const HIDDEN = 'a caller who may not `read` the task gets 404 NOT_FOUND, as for a missing id';

/**
 * Loads the task named in the path and authorises `action` on it. Tasks of other tenants and
 * users answer NOT_FOUND exactly like missing ids, so task ids cannot be probed; ACCESS_DENIED
 * only tells a caller who may read the task that the action is not theirs.
 */
async function loadTask(ctx: RouteContext<{ id: string }, unknown, unknown>, action: string): Promise<Task> {
  const id = ctx.params.id;
  let task: Task;
  try {
    task = await ctx.services.tasks.get(id);
  } catch (err) {
    // Rethrown with our message: a host's own task service may word its NOT_FOUND differently.
    if (hasErrorCode(err, 'NOT_FOUND')) throw new NotFoundError(notFoundMessage(id));
    throw err;
  }
  await ctx.authorizeVisible(taskResource(task), action, notFoundMessage(id));
  return task;
}

/** The task routes. */
export const taskRoutes: readonly AnyRoute[] = [
  defineRoute({
    method: 'POST',
    path: '/api/tasks',
    operationId: 'createTask',
    summary: 'Create a task (owned by the caller) in a tenant',
    tags: ['tasks'],
    auth: 'required',
    authorization: '`create` on tenants/<t>/tasks (t: body.tenantId, else X-Tenant-Id, else the default tenant)',
    query: noQuerySchema,
    body: createTaskBodySchema,
    responses: [
      { status: 201, description: 'Created', schema: z.object({ created: z.literal(true), task: taskUpdateSchema }) },
      { status: 200, description: 'An existing task with the same idempotency key', schema: z.object({ created: z.literal(false), task: taskUpdateSchema }) },
    ],
    errors: ['VALIDATION_FAILED', 'PAYLOAD_TOO_LARGE', 'AUTH_REQUIRED', 'ACCESS_DENIED', 'RATE_LIMITED'],
    async handle(ctx) {
      const tenantId = ctx.body.tenantId ?? ctx.tenant;
      await ctx.authorize(tasksResource(tenantId), 'create');
      const { tenantId: _ignored, ...rest } = ctx.body;
      const request = { ...rest, tenantId, ownerId: ctx.user().userId, payload: rest.payload as JsonValue } as EnqueueRequest;
      const result = await ctx.services.tasks.create(request);
      if (result.created) await indexTask(ctx.services.storage, result.task);
      return {
        status: result.created ? 201 : 200,
        body: { created: result.created, task: result.task },
        headers: { location: `/api/tasks/${encodeURIComponent(result.task.taskId)}` },
      };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/tasks',
    operationId: 'listTasks',
    summary: 'List the tasks of a tenant the caller may read, oldest first, with filters and cursor pagination',
    tags: ['tasks'],
    auth: 'required',
    authorization: '`read` on each tenants/<t>/tasks/<id> (items the caller may not read are left out)',
    query: listTasksQuerySchema,
    responses: [{ status: 200, description: 'One page', schema: taskPageSchema }],
    errors: ['VALIDATION_FAILED', 'AUTH_REQUIRED'],
    async handle(ctx) {
      const principal = ctx.user();
      const { access } = ctx.services;
      const q = ctx.query;
      const page = await listTasks(
        ctx.services.tasks,
        ctx.services.storage,
        {
          tenantId: q.tenant ?? ctx.tenant,
          limit: q.limit,
          ...(q.state === undefined ? {} : { state: q.state }),
          ...(q.type === undefined ? {} : { type: q.type }),
          ...(q.owner === undefined ? {} : { ownerId: q.owner }),
          ...(q.cursor === undefined ? {} : { cursor: q.cursor }),
        },
        (task) => access.can(principal.userId, taskResource(task), 'read'),
        ctx.options.taskListScanLimit,
      );
      return { body: { items: page.items, nextCursor: page.nextCursor }, headers: { 'cache-control': 'private, no-cache' } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/tasks/:id',
    operationId: 'getTask',
    summary: 'Read a task with its history',
    tags: ['tasks'],
    auth: 'required',
    authorization: `\`read\` on tenants/<t>/tasks/<id> (owner: the task creator); ${HIDDEN}`,
    params: idParamsSchema,
    query: noQuerySchema,
    responses: [{ status: 200, description: 'The task', schema: taskResponseSchema }],
    // No ACCESS_DENIED: a caller who may not read the task is told it does not exist.
    errors: ['AUTH_REQUIRED', 'AUTH_TOKEN_INVALID', 'AUTH_TOKEN_EXPIRED', 'NOT_FOUND'],
    cacheKey: (ctx) => taskCacheKey(ctx.options.cache.prefix, ctx.params.id),
    async handle(ctx) {
      const task = await loadTask(ctx, 'read');
      return { body: task };
    },
  }),
  defineRoute({
    method: 'PUT',
    path: '/api/tasks/:id/assign',
    operationId: 'assignTask',
    summary: 'Lease a queued task to a worker (operator override of the fair order)',
    tags: ['tasks'],
    auth: 'required',
    authorization: `\`tasks:assign\` on tenants/<t>/tasks/<id>; ${HIDDEN}, one who may read it but not assign gets 403`,
    params: idParamsSchema,
    query: noQuerySchema,
    body: assignBodySchema,
    responses: [{ status: 200, description: 'The update and the lease to complete with', schema: z.object({ update: taskUpdateSchema, lease: leaseSchema }) }],
    errors: ['VALIDATION_FAILED', 'AUTH_REQUIRED', 'ACCESS_DENIED', 'NOT_FOUND', 'CONFLICT'],
    async handle(ctx) {
      const task = await loadTask(ctx, 'tasks:assign');
      const result = await ctx.services.tasks.assign(task.id, ctx.body.workerId, ctx.body.leaseMs === undefined ? {} : { leaseMs: ctx.body.leaseMs });
      return { body: { update: result.update, lease: result.lease }, invalidate: [taskCacheKey(ctx.options.cache.prefix, task.id)] };
    },
  }),
  defineRoute({
    method: 'PUT',
    path: '/api/tasks/:id/complete',
    operationId: 'completeTask',
    summary: 'Complete a task with the lease its worker holds',
    tags: ['tasks'],
    auth: 'required',
    authorization: `\`tasks:complete\` on tenants/<t>/tasks/<id>; ${HIDDEN}, one who may read it but not complete gets 403`,
    params: idParamsSchema,
    query: noQuerySchema,
    body: completeBodySchema,
    responses: [{ status: 200, description: 'The update', schema: taskUpdateSchema }],
    errors: ['VALIDATION_FAILED', 'AUTH_REQUIRED', 'ACCESS_DENIED', 'NOT_FOUND', 'TASK_LEASE_LOST'],
    async handle(ctx) {
      if (ctx.body.lease.taskId !== ctx.params.id) {
        throw new ValidationError('the lease belongs to another task', [{ path: ['lease', 'taskId'], message: 'must equal the task id in the path', code: 'custom' }]);
      }
      const task = await loadTask(ctx, 'tasks:complete');
      const update = await ctx.services.tasks.complete(ctx.body.lease as TaskLease, ctx.body.result as JsonValue | undefined);
      return { body: update, invalidate: [taskCacheKey(ctx.options.cache.prefix, task.id)] };
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/api/tasks/:id',
    operationId: 'deleteTask',
    summary: 'Delete a task in any state (cancelling it first when active)',
    tags: ['tasks'],
    auth: 'required',
    authorization: `\`delete\` on tenants/<t>/tasks/<id>; ${HIDDEN}, one who may read it but not delete gets 403`,
    params: idParamsSchema,
    query: noQuerySchema,
    responses: [{ status: 204, description: 'Deleted' }],
    errors: ['AUTH_REQUIRED', 'ACCESS_DENIED', 'NOT_FOUND'],
    async handle(ctx) {
      const task = await loadTask(ctx, 'delete');
      await ctx.services.tasks.delete(task.id);
      await unindexTask(ctx.services.storage, task);
      return { status: 204, invalidate: [taskCacheKey(ctx.options.cache.prefix, task.id)] };
    },
  }),
];
