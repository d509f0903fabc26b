/**
 * The OpenAPI 3.1 document, generated from the routes' zod schemas with zod 4's
 * `z.toJSONSchema` (JSON Schema 2020-12, the dialect OpenAPI 3.1 uses).
 */
import { z } from 'zod';
import { ERROR_DEFAULTS } from '../core/errors.js';
import type { AnyRoute } from './internal/route.js';
import { problemSchema } from './schemas.js';

/** An OpenAPI 3.1 document (the parts this generator writes). */
export interface OpenApiDocument {
  /** `3.1.0`. */
  readonly openapi: string;
  /** Title and version. */
  readonly info: { readonly title: string; readonly version: string };
  /** Server URLs. */
  readonly servers?: readonly { readonly url: string }[];
  /** Operations by path and method. */
  readonly paths: Readonly<Record<string, Readonly<Record<string, unknown>>>>;
  /** Shared schemas and the bearer security scheme. */
  readonly components: Readonly<Record<string, unknown>>;
}

type JsonSchema = Record<string, unknown>;

function toSchema(schema: z.ZodType, io: 'input' | 'output'): JsonSchema {
  const out = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as JsonSchema;
  delete out.$schema;
  return out;
}

function parameters(schema: z.ZodType | undefined, where: 'path' | 'query'): unknown[] {
  if (schema === undefined) return [];
  const json = toSchema(schema, 'input');
  const props = (json.properties ?? {}) as Record<string, JsonSchema>;
  const required = new Set((json.required ?? []) as string[]);
  return Object.entries(props).map(([name, s]) => ({ name, in: where, required: where === 'path' || required.has(name), schema: s }));
}

/** Builds the OpenAPI 3.1 document of `routes` (the handler serves it; see `HttpHandler.openapi`). */
export function buildOpenApiDocument(routes: readonly AnyRoute[], meta: { readonly title: string; readonly version: string; readonly servers?: readonly string[] }): OpenApiDocument {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const path = route.path.replace(/:([A-Za-z_]+)/g, '{$1}');
    const responses: Record<string, unknown> = {};
    for (const r of route.responses) {
      responses[String(r.status)] = {
        description: r.description,
        ...(r.schema === undefined ? {} : { content: { 'application/json': { schema: toSchema(r.schema, 'output') } } }),
      };
    }
    for (const code of route.errors) {
      const status = String(ERROR_DEFAULTS[code].status);
      const existing = responses[status] as { description: string } | undefined;
      responses[status] = {
        description: existing ? `${existing.description}, ${code}` : code,
        content: { 'application/problem+json': { schema: { $ref: '#/components/schemas/Problem' } } },
      };
    }
    const operation: Record<string, unknown> = {
      operationId: route.operationId,
      summary: route.summary,
      tags: route.tags,
      parameters: [...parameters(route.params, 'path'), ...parameters(route.query, 'query')],
      responses,
      ...(route.auth === 'none' ? { security: [] } : { security: route.auth === 'optional' ? [{}, { bearerAuth: [] }] : [{ bearerAuth: [] }] }),
      ...(route.authorization === undefined ? {} : { 'x-authorization': route.authorization }),
    };
    if (route.body !== undefined) {
      operation.requestBody = { required: true, content: { 'application/json': { schema: toSchema(route.body, 'input') } } };
    }
    (paths[path] ??= {})[route.method.toLowerCase()] = operation;
  }
  return {
    openapi: '3.1.0',
    info: { title: meta.title, version: meta.version },
    ...(meta.servers && meta.servers.length > 0 ? { servers: meta.servers.map((url) => ({ url })) } : {}),
    paths,
    components: {
      securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      schemas: { Problem: toSchema(problemSchema, 'output') },
    },
  };
}
