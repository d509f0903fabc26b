/**
 * The user and resource a check is about, and their validation. Checks are the hot path, so the
 * inputs are validated by hand-written code here; the zod schemas below state the same rules, and a
 * property test holds the two in agreement (zod alone would cost about as much as the whole check).
 */
import { z } from 'zod';
import { ValidationError } from '../../../core/errors.js';
import { MAX_USER_ID_LENGTH, TENANT_PATTERN, tenantSchema } from './names.js';
import { resourcePathSchema, scanPath } from './path.js';
import { hasPrefix, indexIn, sliceOf } from '../internal/strings.js';

/** Attribute values conditions can read (scalars, or lists of scalars for `in`). */
export type AttributeBag = Readonly<Record<string, unknown>>;

/** The user a check is about. Extra fields (email, tier, ...) are allowed and ignored. */
export interface AccessUser {
  /** The user id bindings and direct grants refer to. */
  readonly id: string;
  /** Values conditions read as `user.attributes.<name>`. */
  readonly attributes?: AttributeBag;
}

/**
 * A user: its id, or an object with the id and attributes.
 *
 * @example
 * ```ts
 * import type { UserInput } from 'digital-fabrica/security';
 * const byId: UserInput = 'ada';
 * const withData: UserInput = { id: 'ada', attributes: { clearance: 3, teams: ['core'] } };
 * ```
 */
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
 *
 * @example
 * ```ts
 * import type { ResourceInput } from 'digital-fabrica/security';
 * const byPath: ResourceInput = 'tenants/acme/projects/42/tasks/123';
 * const withData: ResourceInput = { tenant: 'acme', path: 'tasks/123', ownerId: 'ada', attributes: { level: 2 } };
 * ```
 */
export type ResourceInput = string | AccessResource;

/** A validated resource, as the index and conditions read it. */
export interface ResourceView {
  readonly tenant: string;
  /** The validated path inside the tenant. */
  readonly path: string;
  /** Number of path segments. */
  readonly segments: number;
  readonly ownerId: unknown;
  readonly attributes: AttributeBag | undefined;
}

/**
 * A resource validated once, to be checked many times: `can()` and the other checks accept it
 * without validating it again (as CASL's `subject()` objects are built once). Immutable, so it
 * cannot be changed after validation; the attribute bag is read as it is at check time.
 *
 * @example
 * ```ts
 * import { AccessPolicy, parseResource } from 'digital-fabrica/security';
 * const policy = new AccessPolicy();
 * const task = parseResource({ tenant: 'acme', path: 'tasks/123', ownerId: 'ada' });
 * for (const action of ['read', 'update', 'delete']) console.log(action, policy.can('ada', task, action));
 * ```
 */
export class ParsedResource implements AccessResource {
  // The brand: only this constructor (which validates) can add it, so an object made with
  // Object.create(ParsedResource.prototype) or a look-alike is validated like any plain input.
  readonly #validated = true;
  /** The tenant the resource belongs to. */
  readonly tenant: string;
  /** The validated path inside the tenant. */
  readonly path: string;
  /** Number of path segments. */
  readonly segments: number;
  /** The owning user's id, if given. */
  readonly ownerId: string | null | undefined;
  /** Values conditions read as `resource.attributes.<name>`, if given. */
  readonly attributes: AttributeBag | undefined;

  /**
   * Validates `resource`; prefer {@link parseResource}, which returns an already parsed one as is.
   * @throws `VALIDATION_FAILED` naming the offending field.
   */
  constructor(resource: ResourceInput) {
    const view = readResource(resource, true);
    this.tenant = view.tenant;
    this.path = view.path;
    this.segments = view.segments;
    this.ownerId = view.ownerId as string | null | undefined;
    this.attributes = view.attributes;
    Object.freeze(this);
  }

  /** True only for instances built (and so validated) by this class. @internal */
  static isParsed(value: unknown): value is ParsedResource {
    return typeof value === 'object' && value !== null && #validated in value;
  }
}

/**
 * Validates a resource once, for many checks.
 *
 * @throws `VALIDATION_FAILED` naming the offending field.
 * @example
 * ```ts
 * import { parseResource } from 'digital-fabrica/security';
 * const task = parseResource('tenants/acme/projects/42/tasks/7');
 * console.log(task.tenant, task.path); // 'acme' 'projects/42/tasks/7'
 * ```
 */
export function parseResource(resource: ResourceInput): ParsedResource {
  return ParsedResource.isParsed(resource) ? resource : new ParsedResource(resource);
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
 * Validates a user input and returns its id, allocating nothing (the hot path). Agrees with
 * {@link userInputSchema}.
 * @throws `VALIDATION_FAILED`
 */
export function readUserId(user: unknown): string {
  if (typeof user === 'string') {
    if (user.length === 0 || user.length > MAX_USER_ID_LENGTH) fail('user', `id must be 1-${MAX_USER_ID_LENGTH} characters`);
    return user;
  }
  return readUser(user).id;
}

/** The attributes of a user input that {@link readUserId} accepted. */
export function userAttributesOf(user: unknown): AttributeBag | undefined {
  return typeof user === 'string' ? undefined : (user as AccessUser).attributes;
}

/**
 * Validates a resource and returns its view: a {@link ParsedResource} as it is, anything else
 * checked field by field. Hand-written for speed; agrees with {@link resourceInputSchema}. With
 * `checkTenant` false the caller validates the tenant itself (the hot path skips the regular
 * expression for tenants it already knows to be valid).
 * @throws `VALIDATION_FAILED` naming the offending field.
 */
export function readResource(resource: unknown, checkTenant: boolean): ResourceView {
  if (typeof resource === 'object' && resource !== null) {
    // `instanceof` first: plain objects leave here without a brand check, which keeps that check
    // monomorphic (V8 inlines it). A look-alike made with Object.create(ParsedResource.prototype)
    // fails the brand check and is validated like any plain input.
    if (resource instanceof ParsedResource && ParsedResource.isParsed(resource)) return resource;
    return readResourceObject(resource as RawResource, checkTenant);
  }
  if (typeof resource !== 'string') return fail('resource', 'must be "tenants/<tenant>/<path>" or { tenant, path }');
  if (!hasPrefix(resource, TENANTS_PREFIX)) fail('resource', 'a resource string must be "tenants/<tenant>/<path>"');
  const slash = indexIn(resource, '/', TENANTS_PREFIX.length);
  if (slash < 0) fail('resource', 'a resource string must be "tenants/<tenant>/<path>"');
  const tenant = sliceOf(resource, TENANTS_PREFIX.length, slash);
  const path = sliceOf(resource, slash + 1);
  if (checkTenant) assertTenant(tenant);
  const segments = scanPath(path);
  if (typeof segments === 'string') fail('resource.path', segments);
  return { tenant, path, segments, ownerId: undefined, attributes: undefined };
}

type RawResource = { readonly tenant?: unknown; readonly path?: unknown; readonly ownerId?: unknown; readonly attributes?: unknown };

function readResourceObject(r: RawResource, checkTenant: boolean): ResourceView {
  // Each field is read once, so a getter cannot show one value to the checks and another to the index.
  const tenant = r.tenant;
  const path = r.path;
  const ownerId = r.ownerId;
  const attributes = r.attributes;
  if (typeof tenant !== 'string') fail('resource.tenant', 'must be a string');
  if (typeof path !== 'string') fail('resource.path', 'must be a string');
  if (ownerId !== undefined && ownerId !== null && (typeof ownerId !== 'string' || ownerId.length > MAX_USER_ID_LENGTH)) {
    fail('resource.ownerId', `must be a string of at most ${MAX_USER_ID_LENGTH} characters, or null`);
  }
  if (attributes !== undefined && !isBag(attributes)) fail('resource.attributes', 'must be a plain object');
  if (checkTenant) assertTenant(tenant);
  const segments = scanPath(path);
  if (typeof segments === 'string') fail('resource.path', segments);
  return { tenant, path, segments, ownerId, attributes: attributes as AttributeBag | undefined };
}
