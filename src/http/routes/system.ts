/** `GET /api/health` and `GET /api/openapi.json`. */
import { defineRoute, type AnyRoute } from '../internal/route.js';
import { healthResponseSchema, noQuerySchema } from '../schemas.js';
import type { OpenApiDocument } from '../openapi.js';
import { z } from 'zod';

/** The system routes; `document` yields the OpenAPI document (built once, lazily). */
export function systemRoutes(document: () => OpenApiDocument): AnyRoute[] {
  return [
    defineRoute({
      method: 'GET',
      path: '/api/health',
      operationId: 'health',
      summary: 'Liveness: the handler answers',
      tags: ['system'],
      auth: 'none',
      query: noQuerySchema,
      responses: [{ status: 200, description: 'Alive', schema: healthResponseSchema }],
      errors: [],
      async handle(ctx) {
        return { body: { status: 'ok', time: ctx.services.clock?.now() ?? Date.now() }, headers: { 'cache-control': 'no-store' } };
      },
    }),
    defineRoute({
      method: 'GET',
      path: '/api/openapi.json',
      operationId: 'openapi',
      summary: 'This API as an OpenAPI 3.1 document',
      tags: ['system'],
      auth: 'none',
      query: noQuerySchema,
      responses: [{ status: 200, description: 'The document', schema: z.object({ openapi: z.string() }).loose() }],
      errors: [],
      async handle() {
        return { body: document(), headers: { 'cache-control': 'public, max-age=3600' } };
      },
    }),
  ];
}
