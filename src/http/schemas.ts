/**
 * The zod schemas of the API: request bodies, query strings and path parameters are validated with
 * them; responses are documented with them in the OpenAPI document.
 */
import { z } from 'zod';

// eslint-disable-next-line no-control-regex
const noControls = /^[^\u0000-\u001f\u007f-\u009f]*$/;

/** A path id (task, user): 1–256 printable characters without `/`. */
export const idSchema = z.string().min(1).max(256).regex(/^[^/\u0000-\u001f\u007f-\u009f]+$/, 'ids are 1–256 printable characters without "/"');
/** Path parameters `{ id }`. */
export const idParamsSchema = z.strictObject({ id: idSchema });
/** A tenant id. */
export const tenantSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, 'tenant ids: 1–64 of A-Z a-z 0-9 _ . -');
/** An empty query (unknown parameters are rejected). */
export const noQuerySchema = z.strictObject({});

const tierField = z.number().int().min(0).max(100);
const statusField = z.enum(['active', 'suspended', 'pending']);

/** Body of `POST /api/users`. */
export const createUserBodySchema = z.strictObject({
  email: z.string().min(3).max(320).nullable().optional(),
  displayName: z.string().min(1).max(200),
  password: z.string().min(8).max(1024).optional(),
  tier: tierField.optional(),
  status: statusField.optional(),
});

/** Body of `PUT /api/users/:id`. */
export const updateUserBodySchema = z
  .strictObject({
    email: z.string().min(3).max(320).nullable().optional(),
    displayName: z.string().min(1).max(200).optional(),
    tier: tierField.optional(),
    status: statusField.optional(),
  })
  .refine((v) => Object.keys(v).length > 0, { message: 'nothing to update' });

/** A user as returned. */
export const userResponseSchema = z.looseObject({
  id: z.string(),
  email: z.string().nullable(),
  displayName: z.string(),
  tier: z.number(),
  status: z.string(),
});

/** Tokens as returned by login, MFA, refresh and SIWE. */
export const tokensResponseSchema = z.object({
  tokenType: z.literal('Bearer'),
  accessToken: z.string(),
  accessTokenExpiresAt: z.number(),
  refreshToken: z.string(),
  refreshTokenExpiresAt: z.number(),
  sessionId: z.string(),
});

/** Body of `POST /api/auth/login`. */
export const loginBodySchema = z.strictObject({ email: z.string().min(1).max(320), password: z.string().min(1).max(1024) });
/** Response of a sign-in: tokens, or the MFA step (`mfaToken` goes to `POST /api/auth/mfa`). */
export const signInResponseSchema = z.discriminatedUnion('status', [
  tokensResponseSchema.extend({ status: z.literal('authenticated'), userId: z.string() }),
  z.object({ status: z.literal('mfa_required'), mfaToken: z.string(), mfaTokenExpiresAt: z.number() }),
]);
/** Body of `POST /api/auth/mfa`. */
export const mfaBodySchema = z.union([
  z.strictObject({ mfaToken: z.string().min(1).max(4096), code: z.string().regex(/^\d{6,8}$/) }),
  z.strictObject({ mfaToken: z.string().min(1).max(4096), recoveryCode: z.string().min(1).max(64) }),
]);
/** Body of `POST /api/auth/mfa/confirm`. */
export const mfaConfirmBodySchema = z.strictObject({ code: z.string().regex(/^\d{6,8}$/) });
/** Body of `POST /api/auth/refresh`. */
export const refreshBodySchema = z.strictObject({ refreshToken: z.string().min(1).max(4096) });
/** Body of `POST /api/auth/siwe/verify`. */
export const siweVerifyBodySchema = z.strictObject({ message: z.string().min(1).max(8192), signature: z.string().regex(/^0x[0-9a-fA-F]{130}$/, 'a 65-byte hex signature') });

const jsonValue: z.ZodType<unknown> = z.json();

/** Body of `POST /api/tasks`. */
export const createTaskBodySchema = z.strictObject({
  type: z.string().min(1).max(128),
  tenantId: tenantSchema.optional(),
  payload: jsonValue,
  band: z.enum(['critical', 'high', 'normal', 'low']).optional(),
  priority: z.number().int().min(-1000).max(1000).optional(),
  cost: z.number().positive().max(1_000_000).optional(),
  resources: z.strictObject({ cpu: z.number().positive().optional(), memoryMb: z.number().positive().optional() }).optional(),
  delayMs: z.number().int().min(0).max(365 * 86_400_000).optional(),
  timeoutMs: z.number().int().min(1).max(7 * 86_400_000).optional(),
  maxAttempts: z.number().int().min(1).max(1000).optional(),
  idempotencyKey: z.string().min(1).max(256).regex(noControls).optional(),
});

/** Query of `GET /api/tasks`. */
export const listTasksQuerySchema = z.strictObject({
  tenant: tenantSchema.optional(),
  state: z.enum(['queued', 'assigned', 'running', 'completed', 'failed', 'cancelled', 'dead']).optional(),
  type: z.string().min(1).max(128).optional(),
  owner: z.string().min(1).max(256).optional(),
  cursor: z.string().min(1).max(1024).optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
});

/** Body of `PUT /api/tasks/:id/assign`. */
export const assignBodySchema = z.strictObject({ workerId: z.string().min(1).max(128).regex(noControls), leaseMs: z.number().int().min(1000).max(86_400_000).optional() });

/** A task lease as returned by assign and taken by complete. */
export const leaseSchema = z.strictObject({
  taskId: z.string(),
  token: z.string().min(1).max(512),
  workerId: z.string().min(1).max(128),
  attempt: z.number().int().min(1),
  expiresAt: z.number(),
});

/** Body of `PUT /api/tasks/:id/complete`. */
export const completeBodySchema = z.strictObject({ lease: leaseSchema, result: jsonValue.optional() });

/** A task update (state change) as returned. */
export const taskUpdateSchema = z.looseObject({ taskId: z.string(), tenantId: z.string(), type: z.string(), state: z.string(), attempt: z.number(), at: z.number() });

/** A task as returned. */
export const taskResponseSchema = z.looseObject({
  id: z.string(),
  type: z.string(),
  tenantId: z.string(),
  ownerId: z.string().nullable(),
  state: z.string(),
  band: z.string(),
  priority: z.number(),
  attempt: z.number(),
  maxAttempts: z.number(),
  createdAt: z.number(),
  updatedAt: z.number(),
  payload: jsonValue,
  result: jsonValue,
});

/** A page of tasks. */
export const taskPageSchema = z.object({ items: z.array(taskResponseSchema), nextCursor: z.string().nullable() });

const amountsSchema = z.object({ compute: z.number(), storage: z.number(), network: z.number() });

/** Body of `POST /api/resources/allocate`. */
export const allocateBodySchema = z.strictObject({
  compute: z.number().int().min(0).optional(),
  storage: z.number().int().min(0).optional(),
  network: z.number().int().min(0).optional(),
  leaseMs: z.number().int().min(1).max(30 * 86_400_000).optional(),
  idempotencyKey: z.string().min(1).max(200).regex(noControls).optional(),
});

/** A reservation as returned. */
export const reservationSchema = z.object({ id: z.string(), userId: z.string(), amounts: amountsSchema, createdAt: z.number(), expiresAt: z.number() });

/** Query of `GET /api/resources/monitor`. */
export const monitorQuerySchema = z.strictObject({ userId: idSchema.optional() });

/** Response of `GET /api/resources/monitor`. */
export const monitorResponseSchema = z.object({
  userId: z.string(),
  quota: amountsSchema,
  usage: amountsSchema,
  remaining: amountsSchema,
  count: z.number(),
  reservations: z.array(reservationSchema),
  system: z.object({ sample: z.unknown(), alerts: z.array(z.unknown()) }).optional(),
  queue: z.unknown().optional(),
});

const fraction = z.number().min(0).max(1);

/** Body of `PUT /api/resources/optimize`. */
export const optimizeBodySchema = z.strictObject({
  apply: z.boolean().optional(),
  system: z.strictObject({ cpuUsage: fraction.optional(), memoryUsage: fraction.optional() }).optional(),
  tenants: z
    .array(z.strictObject({ tenantId: z.string().min(1).max(128), concurrency: z.number().int().min(1), baseline: z.number().int().min(1), share: fraction }))
    .max(10_000)
    .optional(),
  users: z
    .array(
      z.strictObject({
        userId: z.string().min(1).max(256),
        reliability: fraction,
        utilization: fraction,
        quotaRejections: z.number().int().min(0).optional(),
        boost: z.number().positive().optional(),
      }),
    )
    .max(10_000)
    .optional(),
});

/** Response of `PUT /api/resources/optimize`. */
export const optimizeResponseSchema = z.object({
  applied: z.boolean(),
  adjustments: z.array(z.object({ target: z.string(), kind: z.string(), from: z.number(), to: z.number(), reason: z.string() })),
});

/** Response of `GET /api/health`. */
export const healthResponseSchema = z.object({ status: z.literal('ok'), time: z.number() });

/** A JWKS document. */
export const jwksResponseSchema = z.object({ keys: z.array(z.record(z.string(), z.unknown())) });

/** RFC 9457 problem details as the API renders them. */
export const problemSchema = z.looseObject({
  type: z.string(),
  title: z.string(),
  status: z.number(),
  detail: z.string(),
  code: z.string(),
  retryable: z.boolean(),
  requestId: z.string(),
});
