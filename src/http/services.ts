/**
 * What the HTTP layer needs from the rest of the SDK, stated structurally: the handler depends on
 * these shapes only, never on `createFabrica`'s result or on a concrete class, so a host can pass
 * the SDK's services, wrappers around them, or test doubles.
 */
import type { CacheAdapter } from '../adapters/cache.js';
import type { StorageAdapter, JsonValue } from '../adapters/storage.js';
import type { EnqueueRequest, EnqueueResult, QueueStats, Task, TaskLease, TaskUpdate } from '../adapters/queue.js';
import type { Clock } from '../core/clock.js';
import type { FabricaEventBus } from '../core/events.js';
import type { Logger } from '../core/logger.js';
import type { ResourceInput, UserInput } from '../security/index.js';

/** The caller, as authentication established it from a bearer access token. */
export interface HttpPrincipal {
  /** The user id (`sub`). */
  readonly userId: string;
  /** The session the token belongs to (`sid`); logout revokes it. */
  readonly sessionId?: string;
  /** How the user authenticated (RFC 8176 `amr`). */
  readonly amr?: readonly string[];
  /** The token's claims; `exp` (epoch seconds) closes WebSocket connections when reached. */
  readonly claims?: { readonly exp?: number };
  /** The user, when authentication loaded it (saves a read where the tier is needed). */
  readonly user?: { readonly tier: number };
}

/** A user as the API returns it (never with credentials). */
export interface HttpUser {
  /** User id. */
  readonly id: string;
  /** Email, or `null` for accounts created by Sign-In with Ethereum. */
  readonly email: string | null;
  /** Display name. */
  readonly displayName: string;
  /** Quota tier. */
  readonly tier: number;
  /** Account state, e.g. `active`. */
  readonly status: string;
  /** Any further public fields the identity service returns. */
  readonly [field: string]: unknown;
}

/** Tokens handed to a client after a sign-in or a refresh. */
export interface HttpTokens {
  /** `Bearer`. */
  readonly tokenType: 'Bearer';
  /** Bearer access token (secret; never logged). */
  readonly accessToken: string;
  /** Access token expiry, epoch ms. */
  readonly accessTokenExpiresAt: number;
  /** Opaque refresh token (secret; never logged). */
  readonly refreshToken: string;
  /** Refresh token expiry, epoch ms. */
  readonly refreshTokenExpiresAt: number;
  /** The session id. */
  readonly sessionId: string;
}

/** A completed sign-in. */
export interface HttpAuthenticated {
  /** `authenticated`. */
  readonly status: 'authenticated';
  /** The user signed in. */
  readonly user: HttpUser;
  /** The tokens. */
  readonly tokens: HttpTokens;
}

/** The answer to a first factor: tokens, or a second step when the account has MFA. */
export type HttpSignInResult =
  | HttpAuthenticated
  | { readonly status: 'mfa_required'; readonly userId: string; readonly challenge: string; readonly challengeExpiresAt: number };

/** Input of the user-creating endpoint (`POST /api/users`). */
export interface HttpCreateUser {
  /** Email (normalised by the identity service). */
  readonly email?: string | null;
  /** Display name. */
  readonly displayName: string;
  /** Password, hashed by the identity service. */
  readonly password?: string;
  /** Quota tier (only callers allowed `users:admin` may set it). */
  readonly tier?: number;
  /** Account state (only callers allowed `users:admin` may set it). */
  readonly status?: 'active' | 'suspended' | 'pending';
}

/** Input of `PUT /api/users/:id`. */
export interface HttpUpdateUser {
  /** New email. */
  readonly email?: string | null;
  /** New display name. */
  readonly displayName?: string;
  /** New tier (`users:admin`). */
  readonly tier?: number;
  /** New state (`users:admin`). */
  readonly status?: 'active' | 'suspended' | 'pending';
}

/** A JSON Web Key Set document (`/.well-known/jwks.json`). */
export interface HttpJwks {
  /** Public keys. */
  readonly keys: readonly object[];
}

/**
 * The identity operations the HTTP layer calls — a subset of the identity module's `Identity`
 * (from `createIdentity`), which satisfies it as is. Every method throws `FabricaError`s with the
 * identity codes (`AUTH_*`, `NOT_FOUND`, `CONFLICT`, `VALIDATION_FAILED`), rendered as problem details.
 */
export interface HttpIdentity {
  /**
   * Verifies a bearer access token (signature, claims, session still live, user still active).
   * @throws `AUTH_TOKEN_INVALID`, `AUTH_TOKEN_EXPIRED`
   */
  authenticate(accessToken: string): Promise<HttpPrincipal>;
  /** Users. */
  readonly users: {
    /** Creates a user. @throws `VALIDATION_FAILED`, `CONFLICT` (email taken) */
    create(input: HttpCreateUser): Promise<HttpUser>;
    /** Reads a user. @throws `NOT_FOUND` */
    get(id: string): Promise<HttpUser>;
    /** Updates a user. @throws `NOT_FOUND`, `VALIDATION_FAILED`, `CONFLICT` */
    update(id: string, patch: HttpUpdateUser): Promise<HttpUser>;
    /** Deletes a user and revokes its sessions. @throws `NOT_FOUND` */
    delete(id: string): Promise<void>;
  };
  /** Password sign-in. @throws `AUTH_INVALID_CREDENTIALS`, `AUTH_LOCKED` */
  signIn(input: { email: string; password: string }): Promise<HttpSignInResult>;
  /** Second step with a TOTP or a recovery code. @throws `AUTH_INVALID_CREDENTIALS`, `AUTH_TOKEN_INVALID`, `AUTH_LOCKED` */
  completeSignIn(input: { challenge: string; code: string } | { challenge: string; recoveryCode: string }): Promise<HttpAuthenticated>;
  /** Exchanges a refresh token (rotation with reuse detection). @throws `AUTH_TOKEN_INVALID`, `AUTH_TOKEN_EXPIRED`, `AUTH_TOKEN_REUSED` */
  refresh(refreshToken: string): Promise<HttpTokens>;
  /** Sessions. */
  readonly sessions: {
    /** Ends a session; false when it was already gone. */
    revoke(userId: string, sessionId: string): Promise<boolean>;
  };
  /** TOTP enrollment. */
  readonly mfa: {
    /** Starts enrollment. @throws `CONFLICT` (already enrolled) */
    beginEnrollment(userId: string): Promise<{ readonly secret: string; readonly otpauthUri: string; readonly expiresAt: number }>;
    /** Confirms with a first code; returns one-time recovery codes. @throws `AUTH_INVALID_CREDENTIALS` */
    confirmEnrollment(userId: string, code: string): Promise<{ readonly recoveryCodes: readonly string[] }>;
  };
  /** Sign-In with Ethereum nonces. */
  readonly siwe: {
    /** A fresh single-use nonce. */
    issueNonce(): Promise<{ readonly nonce: string; readonly expiresAt: number }>;
  };
  /** Verifies an EIP-4361 message and its signature and signs the wallet's user in. @throws `AUTH_SIWE_INVALID` */
  signInWithEthereum(input: { message: string; signature: string }): Promise<HttpSignInResult>;
  /** The public signing keys. */
  jwks(): HttpJwks | Promise<HttpJwks>;
}

/** The access-control checks the HTTP layer makes (the security module's `AccessControl` satisfies it). */
export interface HttpAccessControl {
  /**
   * Synchronous check from the loaded policy (fails closed when the policy is stale).
   * @throws `VALIDATION_FAILED` for a malformed resource
   */
  can(user: UserInput, resource: ResourceInput, action: string): boolean;
  /** The spec's check, re-verifying the policy revision at a bounded interval. @throws `VALIDATION_FAILED` */
  checkPermission(user: UserInput, resource: ResourceInput, action: string): Promise<boolean>;
}

/** Filters and page of a task listing. */
export interface HttpTaskListQuery {
  /** The tenant whose tasks are listed. */
  readonly tenantId: string;
  /** Only tasks in this state. */
  readonly state?: string;
  /** Only tasks of this type. */
  readonly type?: string;
  /** Only tasks created by this user. */
  readonly ownerId?: string;
  /** Resume after this cursor. */
  readonly cursor?: string;
  /** Page size. */
  readonly limit: number;
}

/** The task operations the HTTP layer calls (the tasks module's `TaskService` satisfies it). */
export interface HttpTasks {
  /** Creates a task. @throws `VALIDATION_FAILED`, `PAYLOAD_TOO_LARGE` */
  create(request: EnqueueRequest): Promise<EnqueueResult>;
  /** Reads a task. @throws `NOT_FOUND` */
  get(taskId: string): Promise<Task>;
  /** Leases a queued task to a worker. @throws `NOT_FOUND`, `CONFLICT` */
  assign(taskId: string, workerId: string, options?: { readonly leaseMs?: number }): Promise<{ readonly update: TaskUpdate; readonly lease: TaskLease }>;
  /** Completes with a lease. @throws `TASK_LEASE_LOST` */
  complete(lease: TaskLease, result?: JsonValue): Promise<TaskUpdate>;
  /** Removes a task. @throws `NOT_FOUND` */
  delete(taskId: string): Promise<void>;
  /** Queue counts (for health and monitoring). */
  stats?(): Promise<QueueStats>;
  /**
   * Lists tasks with filters, when the service can. Without it the HTTP layer lists the tasks
   * created through it from its own index in `storage`.
   */
  list?(query: HttpTaskListQuery): Promise<{ readonly items: readonly Task[]; readonly cursor: string | null }>;
}

/** A reservation as the API returns it. */
export interface HttpReservation {
  /** Reservation id. */
  readonly id: string;
  /** The user whose quota it counts against. */
  readonly userId: string;
  /** Amounts held. */
  readonly amounts: { readonly compute: number; readonly storage: number; readonly network: number };
  /** Creation time, epoch ms. */
  readonly createdAt: number;
  /** Lease end, epoch ms. */
  readonly expiresAt: number;
}

/** Who a quota is for. */
export interface HttpQuotaSubject {
  /** User id. */
  readonly id: string;
  /** Quota tier. */
  readonly tier: number | string;
  /** Tenant carried into events. */
  readonly tenantId?: string;
}

/** The resource-manager operations the HTTP layer calls (the resources module's `ResourceManager` satisfies it). */
export interface HttpResources {
  /** Reserves amounts against the user's quota. @throws `QUOTA_EXCEEDED`, `CONFLICT`, `VALIDATION_FAILED` */
  allocate(
    user: HttpQuotaSubject,
    request: { readonly compute?: number; readonly storage?: number; readonly network?: number; readonly leaseMs?: number; readonly idempotencyKey?: string },
  ): Promise<HttpReservation>;
  /** Quota, usage and what is left. */
  usage(user: HttpQuotaSubject): Promise<{
    readonly quota: { readonly compute: number; readonly storage: number; readonly network: number };
    readonly usage: { readonly compute: number; readonly storage: number; readonly network: number };
    readonly remaining: { readonly compute: number; readonly storage: number; readonly network: number };
    readonly count: number;
    readonly reservations: readonly HttpReservation[];
  }>;
  /** Runs one optimisation round (applied when `apply`). @throws `VALIDATION_FAILED` */
  optimize(input: HttpOptimizeInput, options?: { readonly apply?: boolean }): Promise<readonly HttpAdjustment[]>;
}

/** Input of `PUT /api/resources/optimize` (the optimiser's `OptimizationInput`). */
export interface HttpOptimizeInput {
  /** System pressure, fractions 0–1. */
  readonly system?: { readonly cpuUsage?: number; readonly memoryUsage?: number };
  /** Tenants to consider. */
  readonly tenants?: readonly { readonly tenantId: string; readonly concurrency: number; readonly baseline: number; readonly share: number }[];
  /** Users to consider. */
  readonly users?: readonly { readonly userId: string; readonly reliability: number; readonly utilization: number; readonly quotaRejections?: number; readonly boost?: number }[];
}

/** One adjustment the optimiser proposed or applied. */
export interface HttpAdjustment {
  /** What it targets, e.g. `tenant:acme`. */
  readonly target: string;
  /** Kind, e.g. `concurrency`, `boost`. */
  readonly kind: string;
  /** Value before. */
  readonly from: number;
  /** Value after. */
  readonly to: number;
  /** Why. */
  readonly reason: string;
}

/** Host monitoring (the resources module's `MonitoringSystem` satisfies it). */
export interface HttpMonitoring {
  /** The last sample, if any. */
  latest(): unknown;
  /** Alert states. */
  alerts(): readonly unknown[];
}

/** The rate limiter of the HTTP layer (the resources module's `RateLimiter` satisfies it). */
export interface HttpRateLimiter {
  /** Its limits, named, for the `RateLimit-Policy` header. */
  readonly limits: readonly { readonly name: string; readonly limit: number; readonly periodMs: number; readonly burst: number }[];
  /**
   * Checks and records one request for `key`.
   * @throws `VALIDATION_FAILED`, `ADAPTER_CLOSED`
   */
  check(
    key: string,
    options?: { readonly cost?: number },
  ): Promise<{
    readonly allowed: boolean;
    readonly degraded: boolean;
    readonly remaining: number;
    readonly resetMs: number;
    readonly retryAfterMs: number;
    readonly limits: readonly { readonly name: string; readonly remaining: number; readonly resetMs: number; readonly retryAfterMs: number }[];
  }>;
}

/**
 * Everything {@link createHttpHandler} composes. Required: identity, access, tasks, resources,
 * events. Optional: cache (GET caching), rateLimiter, monitoring, storage (task listing index),
 * clock, logger.
 *
 * @example
 * ```ts
 * import type { HttpServices } from 'digital-fabrica/http';
 * const pick = (s: HttpServices) => ({ identity: s.identity, access: s.access });
 * ```
 */
export interface HttpServices {
  /** Users, logins, tokens, MFA, SIWE, JWKS. */
  readonly identity: HttpIdentity;
  /** Authorisation of every protected route and of every WebSocket event. */
  readonly access: HttpAccessControl;
  /** The task service. */
  readonly tasks: HttpTasks;
  /** The resource manager. */
  readonly resources: HttpResources;
  /** The event bus (spanning processes through PubSub); the handler invalidates cached tasks on `task:*`. */
  readonly events: FabricaEventBus;
  /** Response cache of GETs (ETag/304); omitted: no caching, ETags still computed. */
  readonly cache?: CacheAdapter;
  /** Request rate limiting; omitted: none. */
  readonly rateLimiter?: HttpRateLimiter;
  /** Host monitoring for `GET /api/resources/monitor`. */
  readonly monitoring?: HttpMonitoring;
  /** Where the task listing index lives when `tasks.list` is missing (namespace `http.tasks`). */
  readonly storage?: StorageAdapter;
  /** Time source (default: system clock). */
  readonly clock?: Clock;
  /** Structured request logs (default: silent). */
  readonly logger?: Logger;
}
