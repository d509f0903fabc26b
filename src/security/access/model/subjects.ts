/**
 * The user and resource a check is about, and their validation. Checks are the hot path, so the
 * inputs are validated by hand-written code here; the zod schemas below state the same rules, and a
 * property test holds the two in agreement (zod alone would cost about as much as the whole check).
 */
import { z } from 'zod';
import { ValidationError } from '../../../core/errors.js';
import { MAX_USER_ID_LENGTH, TENANT_PATTERN, tenantSchema } from './names.js';
import { MAX_PATH_LENGTH, resourcePathSchema, scanPath } from './path.js';

/** Attribute values conditions can read (scalars, or lists of scalars for `in`). */
export type AttributeBag = Readonly<Record<string, unknown>>;

/** The user a check is about. Extra fields (email, tier, ...) are allowed and ignored. */
export interface AccessUser {
  /** The user id bindings and direct grants refer to. */
  readonly id: string;
  /** Values conditions read as `user.attributes.<name>`. */
  readonly attributes?: AttributeBag;
}

/** A user: its id, or an object with the id and attributes. */
export type UserInput = string | AccessUser;

/** A resource in a tenant. */
export interface AccessResource {
  /** The tenant the resource belongs to; the user's bindings in this tenant apply. */
  readonly tenant: string;
  /** The path inside the tenant, e.g. `projects/42/tasks/123`; its first segment is the type. */
  readonly path: string;
  /** The owning user's id, read by the `owner` condition and `resource.ownerId`. */
  readonly ownerId?: string | null;
  /** Values conditions read as `resource.attributes.<name>`. */
  readonly attributes?: AttributeBag;
}

/**
 * A resource: `{ tenant, path, ownerId?, attributes? }`, or the full path string
 * `tenants/<tenant>/<path>` (e.g. `tenants/acme/projects/42/tasks/123`).
 */
export type ResourceInput = string | AccessResource;

/** A check's inputs after validation. */
export interface CheckSubject {
  readonly userId: string;
  readonly userAttributes: AttributeBag | undefined;
  readonly tenant: string;
  readonly path: string;
  readonly ends: readonly number[];
  readonly ownerId: unknown;
  readonly resourceAttributes: AttributeBag | undefined;
}

const TENANTS_PREFIX = 'tenants/';

const attributesSchema = z.record(z.string(), z.unknown());

/** zod schema of a {@link UserInput}. */
export const userInputSchema = z.union([
  z.string().min(1).max(MAX_USER_ID_LENGTH),
  z.object({ id: z.string().min(1).max(MAX_USER_ID_LENGTH), attributes: attributesSchema.optional() }),
]);

const fullPathSchema = z.string().refine((text) => {
  if (!text.startsWith(TENANTS_PREFIX)) return false;
  const slash = text.indexOf('/', TENANTS_PREFIX.length);
  if (slash < 0) return false;
  return tenantSchema.safeParse(text.slice(TENANTS_PREFIX.length, slash)).success && resourcePathSchema.safeParse(text.slice(slash + 1)).success;
}, 'resource must be "tenants/<tenant>/<path>"');

/** zod schema of a {@link ResourceInput}. */
export const resourceInputSchema = z.union([
  fullPathSchema,
  z.object({
    tenant: tenantSchema,
    path: resourcePathSchema,
    ownerId: z.string().max(MAX_USER_ID_LENGTH).nullable().optional(),
    attributes: attributesSchema.optional(),
  }),
]);

function fail(field: string, message: string): never {
  throw new ValidationError(`invalid ${field}: ${message}`, [{ path: field.split('.'), message, code: 'custom' }]);
}

function isBag(value: unknown): value is AttributeBag {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value) as unknown;
  return proto === Object.prototype || proto === null;
}

/** Validates a user input; returns its id and attributes. @throws `VALIDATION_FAILED` */
export function readUser(user: unknown): { id: string; attributes: AttributeBag | undefined } {
  if (typeof user === 'string') {
    if (user.length === 0 || user.length > MAX_USER_ID_LENGTH) fail('user', `id must be 1-${MAX_USER_ID_LENGTH} characters`);
    return { id: user, attributes: undefined };
  }
  if (typeof user !== 'object' || user === null) return fail('user', 'must be an id or an object with an id');
  const { id, attributes } = user as { id?: unknown; attributes?: unknown };
  if (typeof id !== 'string' || id.length === 0 || id.length > MAX_USER_ID_LENGTH) fail('user.id', `must be a string of 1-${MAX_USER_ID_LENGTH} characters`);
  if (attributes !== undefined && !isBag(attributes)) fail('user.attributes', 'must be a plain object');
  return { id, attributes: attributes as AttributeBag | undefined };
}

/** @throws `VALIDATION_FAILED` unless `tenant` is a valid tenant id. */
export function assertTenant(tenant: string): void {
  if (!TENANT_PATTERN.test(tenant)) fail('resource.tenant', 'must be 1-64 characters from A-Z a-z 0-9 _ . - starting with a letter or digit');
}

/**
 * Validates a user and a resource and returns what a check needs. Hand-written for speed; agrees
 * with {@link userInputSchema} and {@link resourceInputSchema}. With `checkTenant` false the caller
 * validates the tenant itself (the hot path skips the regular expression for tenants it already
 * knows to be valid).
 * @throws `VALIDATION_FAILED` naming the offending field.
 */
export function readSubject(user: unknown, resource: unknown, checkTenant = true): CheckSubject {
  let userId: string;
  let userAttributes: AttributeBag | undefined;
  if (typeof user === 'string') {
    if (user.length === 0 || user.length > MAX_USER_ID_LENGTH) fail('user', `id must be 1-${MAX_USER_ID_LENGTH} characters`);
    userId = user;
  } else {
    const u = readUser(user);
    userId = u.id;
    userAttributes = u.attributes;
  }
  let tenant: string;
  let path: string;
  let ownerId: unknown;
  let resourceAttributes: AttributeBag | undefined;
  if (typeof resource === 'string') {
    if (!resource.startsWith(TENANTS_PREFIX)) fail('resource', 'a resource string must be "tenants/<tenant>/<path>"');
    const slash = resource.indexOf('/', TENANTS_PREFIX.length);
    if (slash < 0) fail('resource', 'a resource string must be "tenants/<tenant>/<path>"');
    tenant = resource.slice(TENANTS_PREFIX.length, slash);
    path = resource.slice(slash + 1);
  } else if (typeof resource === 'object' && resource !== null) {
    const r = resource as { tenant?: unknown; path?: unknown; ownerId?: unknown; attributes?: unknown };
    if (typeof r.tenant !== 'string') fail('resource.tenant', 'must be a string');
    if (typeof r.path !== 'string') fail('resource.path', 'must be a string');
    tenant = r.tenant;
    path = r.path;
    ownerId = r.ownerId;
    if (ownerId !== undefined && ownerId !== null && (typeof ownerId !== 'string' || ownerId.length > MAX_USER_ID_LENGTH)) {
      fail('resource.ownerId', `must be a string of at most ${MAX_USER_ID_LENGTH} characters, or null`);
    }
    if (r.attributes !== undefined && !isBag(r.attributes)) fail('resource.attributes', 'must be a plain object');
    resourceAttributes = r.attributes as AttributeBag | undefined;
  } else {
    return fail('resource', 'must be "tenants/<tenant>/<path>" or { tenant, path }');
  }
  if (checkTenant) assertTenant(tenant);
  const ends = scanPath(path);
  if (typeof ends === 'string') fail('resource.path', ends);
  return { userId, userAttributes, tenant, path, ends, ownerId, resourceAttributes };
}
