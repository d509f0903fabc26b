/**
 * The access-control resource each route checks. One place, so the table in the guide, the
 * OpenAPI `x-authorization` notes and the checks agree.
 *
 * | Resource                                   | Owner      | Checked by                                   |
 * | ------------------------------------------ | ---------- | -------------------------------------------- |
 * | `tenants/<platform>/users`                 | —          | POST /api/users (`create` when sign-up is closed; `users:admin` for tier/status) |
 * | `tenants/<platform>/users/<id>`            | `<id>`     | GET/PUT/DELETE /api/users/:id (`read`/`update`/`delete`; `users:admin` for tier/status) |
 * | `tenants/<t>/tasks`                        | —          | POST /api/tasks (`create`)                    |
 * | `tenants/<t>/tasks/<id>`                   | task owner | GET (`read`), assign (`tasks:assign`), complete (`tasks:complete`), DELETE (`delete`); listing and WebSocket task events (`read`) |
 * | `tenants/<t>/resources/users/<uid>`        | `<uid>`    | allocate (`resources:allocate`), monitor (`read`); WebSocket `resource:update` (`read`) |
 * | `tenants/<platform>/resources`             | —          | optimize (`resources:optimize`); WebSocket `resource:optimize`, `resource:alert` (`read`) |
 * | `tenants/<platform>/system/<metrics|alerts|maintenance>` | — | monitor's system section; WebSocket `system:*` (`read`) |
 */
import type { AccessResource } from '../../security/index.js';

/** `tenants/<platform>/users/<id>`, owned by the user itself. */
export function userResource(platform: string, userId: string): AccessResource {
  return { tenant: platform, path: `users/${userId}`, ownerId: userId };
}

/** `tenants/<platform>/users`: the collection. */
export function usersResource(platform: string): AccessResource {
  return { tenant: platform, path: 'users' };
}

/** `tenants/<t>/tasks/<id>`, owned by the task's creator. */
export function taskResource(task: { readonly tenantId: string; readonly id: string; readonly ownerId?: string | null }): AccessResource {
  return { tenant: task.tenantId, path: `tasks/${task.id}`, ownerId: task.ownerId ?? null };
}

/** `tenants/<t>/tasks`: the collection. */
export function tasksResource(tenant: string): AccessResource {
  return { tenant, path: 'tasks' };
}

/** `tenants/<t>/resources/users/<uid>`: a user's quota and reservations. */
export function userQuotaResource(tenant: string, userId: string): AccessResource {
  return { tenant, path: `resources/users/${userId}`, ownerId: userId };
}

/** `tenants/<platform>/resources`: the optimiser and platform-wide resource events. */
export function platformResources(platform: string): AccessResource {
  return { tenant: platform, path: 'resources' };
}

/** `tenants/<platform>/system/<kind>`: system metrics, alerts, maintenance. */
export function systemResource(platform: string, kind: 'metrics' | 'alerts' | 'maintenance'): AccessResource {
  return { tenant: platform, path: `system/${kind}` };
}
