/** Validated handler options with their defaults applied. */
import { z } from 'zod';
import { parseInput } from '../../core/validation.js';
import type { HttpHandlerOptions } from '../options.js';

const tenant = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'tenant ids: 1–64 of A-Z a-z 0-9 _ . - starting with a letter or digit');

const schema = z
  .strictObject({
    maxBodyBytes: z.number().int().min(1).max(64 * 1024 * 1024).optional(),
    defaultTenant: tenant.optional(),
    platformTenant: tenant.optional(),
    signup: z.enum(['open', 'closed']).optional(),
    trustProxy: z.boolean().optional(),
    cors: z
      .strictObject({
        origins: z.union([z.literal('*'), z.array(z.string().min(1)).max(1000), z.custom<(origin: string) => boolean>((v) => typeof v === 'function')]),
        credentials: z.boolean().optional(),
        maxAgeSeconds: z.number().int().min(0).max(86_400).optional(),
      })
      .optional(),
    compression: z.strictObject({ enabled: z.boolean().optional(), thresholdBytes: z.number().int().min(0).max(1 << 30).optional() }).optional(),
    cache: z.strictObject({ ttlMs: z.number().int().min(1).max(86_400_000).optional(), prefix: z.string().min(1).max(64).optional() }).optional(),
    taskListScanLimit: z.number().int().min(1).max(100_000).optional(),
    hooks: z
      .strictObject({ userCreated: z.custom<NonNullable<NonNullable<HttpHandlerOptions['hooks']>['userCreated']>>((v) => typeof v === 'function').optional() })
      .optional(),
    openapi: z.strictObject({ title: z.string().optional(), version: z.string().optional(), servers: z.array(z.string()).optional() }).optional(),
  })
  .optional();

/** Options after defaults. */
export interface ResolvedHttpOptions {
  readonly maxBodyBytes: number;
  readonly defaultTenant: string;
  readonly platformTenant: string;
  readonly signup: 'open' | 'closed';
  readonly trustProxy: boolean;
  readonly cors: HttpHandlerOptions['cors'];
  readonly compression: { readonly enabled: boolean; readonly thresholdBytes: number };
  readonly cache: { readonly ttlMs: number; readonly prefix: string };
  readonly taskListScanLimit: number;
  readonly hooks: NonNullable<HttpHandlerOptions['hooks']>;
  readonly openapi: { readonly title: string; readonly version: string; readonly servers: readonly string[] };
}

/** Validates options and fills defaults. @throws `VALIDATION_FAILED` */
export function resolveOptions(options: HttpHandlerOptions | undefined): ResolvedHttpOptions {
  const o = (parseInput(schema, options, 'HTTP handler options') ?? {}) as HttpHandlerOptions;
  return {
    maxBodyBytes: o.maxBodyBytes ?? 1024 * 1024,
    defaultTenant: o.defaultTenant ?? 'default',
    platformTenant: o.platformTenant ?? 'platform',
    signup: o.signup ?? 'open',
    trustProxy: o.trustProxy ?? false,
    cors: o.cors,
    compression: { enabled: o.compression?.enabled ?? true, thresholdBytes: o.compression?.thresholdBytes ?? 1024 },
    cache: { ttlMs: o.cache?.ttlMs ?? 30_000, prefix: o.cache?.prefix ?? 'http:v1:' },
    taskListScanLimit: o.taskListScanLimit ?? 1000,
    hooks: o.hooks ?? {},
    openapi: { title: o.openapi?.title ?? 'Digital Fabrica API', version: o.openapi?.version ?? '0.1.0', servers: o.openapi?.servers ?? [] },
  };
}
