/** `POST /api/users`, `GET|PUT|DELETE /api/users/:id`. */
import { defineRoute, type AnyRoute } from '../internal/route.js';
import { userResource, usersResource } from '../internal/paths.js';
import { createUserBodySchema, idParamsSchema, noQuerySchema, updateUserBodySchema, userResponseSchema } from '../schemas.js';
import type { HttpUser } from '../services.js';

/** Cache key of a user's representation. */
export const userCacheKey = (prefix: string, id: string): string => `${prefix}user:${id}`;

const present = (user: HttpUser): HttpUser => user;

/** The user routes. */
export const userRoutes: readonly AnyRoute[] = [
  defineRoute({
    method: 'POST',
    path: '/api/users',
    operationId: 'createUser',
    summary: 'Create a user (sign-up when open)',
    tags: ['users'],
    auth: 'optional',
    authorization: '`create` on tenants/<platform>/users when sign-up is closed; `users:admin` there to set tier or status',
    query: noQuerySchema,
    body: createUserBodySchema,
    responses: [{ status: 201, description: 'The created user', schema: userResponseSchema }],
    errors: ['VALIDATION_FAILED', 'CONFLICT', 'AUTH_REQUIRED', 'ACCESS_DENIED', 'RATE_LIMITED'],
    async handle(ctx) {
      const { platformTenant, signup, hooks } = ctx.options;
      if (signup === 'closed') await ctx.authorize(usersResource(platformTenant), 'create');
      if (ctx.body.tier !== undefined || ctx.body.status !== undefined) await ctx.authorize(usersResource(platformTenant), 'users:admin');
      const user = await ctx.services.identity.users.create(ctx.body);
      await hooks.userCreated?.(user);
      return { status: 201, body: present(user), headers: { location: `/api/users/${encodeURIComponent(user.id)}` } };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/users/:id',
    operationId: 'getUser',
    summary: 'Read a user',
    tags: ['users'],
    auth: 'required',
    authorization: '`read` on tenants/<platform>/users/<id> (owner: <id>)',
    params: idParamsSchema,
    query: noQuerySchema,
    responses: [{ status: 200, description: 'The user', schema: userResponseSchema }],
    errors: ['AUTH_REQUIRED', 'AUTH_TOKEN_INVALID', 'ACCESS_DENIED', 'NOT_FOUND'],
    cacheKey: (ctx) => userCacheKey(ctx.options.cache.prefix, ctx.params.id),
    async handle(ctx) {
      await ctx.authorize(userResource(ctx.options.platformTenant, ctx.params.id), 'read');
      return { body: present(await ctx.services.identity.users.get(ctx.params.id)) };
    },
  }),
  defineRoute({
    method: 'PUT',
    path: '/api/users/:id',
    operationId: 'updateUser',
    summary: 'Update a user',
    tags: ['users'],
    auth: 'required',
    authorization: '`update` on tenants/<platform>/users/<id> (owner: <id>); `users:admin` to change tier or status',
    params: idParamsSchema,
    query: noQuerySchema,
    body: updateUserBodySchema,
    responses: [{ status: 200, description: 'The updated user', schema: userResponseSchema }],
    errors: ['VALIDATION_FAILED', 'AUTH_REQUIRED', 'ACCESS_DENIED', 'NOT_FOUND', 'CONFLICT'],
    async handle(ctx) {
      const resource = userResource(ctx.options.platformTenant, ctx.params.id);
      await ctx.authorize(resource, 'update');
      if (ctx.body.tier !== undefined || ctx.body.status !== undefined) await ctx.authorize(resource, 'users:admin');
      const user = await ctx.services.identity.users.update(ctx.params.id, ctx.body);
      return { body: present(user), invalidate: [userCacheKey(ctx.options.cache.prefix, ctx.params.id)] };
    },
  }),
  defineRoute({
    method: 'DELETE',
    path: '/api/users/:id',
    operationId: 'deleteUser',
    summary: 'Delete a user (revokes its sessions)',
    tags: ['users'],
    auth: 'required',
    authorization: '`delete` on tenants/<platform>/users/<id> (owner: <id>)',
    params: idParamsSchema,
    query: noQuerySchema,
    responses: [{ status: 204, description: 'Deleted' }],
    errors: ['AUTH_REQUIRED', 'ACCESS_DENIED', 'NOT_FOUND'],
    async handle(ctx) {
      await ctx.authorize(userResource(ctx.options.platformTenant, ctx.params.id), 'delete');
      await ctx.services.identity.users.delete(ctx.params.id);
      return { status: 204, invalidate: [userCacheKey(ctx.options.cache.prefix, ctx.params.id)] };
    },
  }),
];
