/** `POST /api/resources/allocate`, `GET /api/resources/monitor`, `PUT /api/resources/optimize`. */
import { defineRoute, type AnyRoute } from '../internal/route.js';
import { platformResources, systemResource, userQuotaResource } from '../internal/paths.js';
import { allocateBodySchema, monitorQuerySchema, monitorResponseSchema, noQuerySchema, optimizeBodySchema, optimizeResponseSchema, reservationSchema } from '../schemas.js';

/** The resource routes. */
export const resourceRoutes: readonly AnyRoute[] = [
  defineRoute({
    method: 'POST',
    path: '/api/resources/allocate',
    operationId: 'allocateResources',
    summary: "Reserve compute, storage and network against the caller's quota (leased)",
    tags: ['resources'],
    auth: 'required',
    authorization: '`resources:allocate` on tenants/<t>/resources/users/<caller> (owner: the caller)',
    query: noQuerySchema,
    body: allocateBodySchema,
    responses: [{ status: 201, description: 'The reservation', schema: reservationSchema }],
    errors: ['VALIDATION_FAILED', 'AUTH_REQUIRED', 'ACCESS_DENIED', 'QUOTA_EXCEEDED', 'CONFLICT'],
    async handle(ctx) {
      const principal = ctx.user();
      const userId = principal.userId;
      await ctx.authorize(userQuotaResource(ctx.tenant, userId), 'resources:allocate');
      const tier = principal.user?.tier ?? (await ctx.services.identity.users.get(userId)).tier;
      const reservation = await ctx.services.resources.allocate({ id: userId, tier, tenantId: ctx.tenant }, ctx.body);
      return { status: 201, body: reservation };
    },
  }),
  defineRoute({
    method: 'GET',
    path: '/api/resources/monitor',
    operationId: 'monitorResources',
    summary: "Quota, usage and reservations of the caller (or of `userId`), with system metrics when permitted",
    tags: ['resources'],
    auth: 'required',
    authorization: '`read` on tenants/<t>/resources/users/<uid> (owner: <uid>); the system section needs `read` on tenants/<platform>/system/metrics',
    query: monitorQuerySchema,
    responses: [{ status: 200, description: 'The report', schema: monitorResponseSchema }],
    errors: ['VALIDATION_FAILED', 'AUTH_REQUIRED', 'ACCESS_DENIED', 'NOT_FOUND'],
    async handle(ctx) {
      const userId = ctx.query.userId ?? ctx.user().userId;
      await ctx.authorize(userQuotaResource(ctx.tenant, userId), 'read');
      const self = ctx.user();
      const tier = userId === self.userId && self.user ? self.user.tier : (await ctx.services.identity.users.get(userId)).tier;
      const report = await ctx.services.resources.usage({ id: userId, tier, tenantId: ctx.tenant });
      const body: Record<string, unknown> = { userId, ...report };
      const { monitoring, tasks } = ctx.services;
      if (await ctx.allowed(systemResource(ctx.options.platformTenant, 'metrics'), 'read')) {
        if (monitoring) body.system = { sample: monitoring.latest() ?? null, alerts: monitoring.alerts() };
        if (tasks.stats) body.queue = await tasks.stats();
      }
      return { body, headers: { 'cache-control': 'private, no-store' } };
    },
  }),
  defineRoute({
    method: 'PUT',
    path: '/api/resources/optimize',
    operationId: 'optimizeResources',
    summary: 'Run one optimisation round over the given loads (proposals only unless `apply`)',
    tags: ['resources'],
    auth: 'required',
    authorization: '`resources:optimize` on tenants/<platform>/resources',
    query: noQuerySchema,
    body: optimizeBodySchema,
    responses: [{ status: 200, description: 'The adjustments', schema: optimizeResponseSchema }],
    errors: ['VALIDATION_FAILED', 'AUTH_REQUIRED', 'ACCESS_DENIED'],
    async handle(ctx) {
      await ctx.authorize(platformResources(ctx.options.platformTenant), 'resources:optimize');
      const { apply = false, ...input } = ctx.body;
      const adjustments = await ctx.services.resources.optimize(input, { apply });
      return { body: { applied: apply, adjustments } };
    },
  }),
];
