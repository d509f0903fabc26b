import { z } from 'zod';
import type { JsonValue, StorageAdapter, TxnCompare, TxnOp } from '../../adapters/storage.js';
import type { Clock } from '../../core/clock.js';
import { ConflictError, NotFoundError } from '../../core/errors.js';
import type { IdGenerator } from '../../core/ids.js';
import type { Logger } from '../../core/logger.js';
import { parseInput } from '../../core/validation.js';
import { hashPassword, needsRehash, verifyPassword, type PasswordPolicy } from '../../security/primitives.js';
import { InvalidCredentialsError } from '../errors.js';
import { idSchema } from '../internal/options.js';
import type { IdentityNamespaces, Doc } from '../internal/namespaces.js';
import {
  createUserInputSchema,
  emailSchema,
  listUsersInputSchema,
  passwordSchema,
  roleNameSchema,
  tenantIdSchema,
  updateUserInputSchema,
  type CreateUserInput,
  type ListUsersInput,
  type UpdateUserInput,
  type User,
  type UserPage,
  type UserStatus,
} from './schemas.js';

/** What is stored per user. Credentials never leave the service. @internal */
export interface UserRecord {
  id: string;
  email: string | null;
  displayName: string;
  tier: number;
  status: UserStatus;
  roles: Record<string, string[]>;
  addresses: string[];
  /** PHC string from the security module, or `null` without a password. */
  passwordHash: string | null;
  passwordChangedAt: number | null;
  createdAt: number;
  updatedAt: number;
}

/** Dependencies of {@link UserService}. @internal */
export interface UserServiceDeps {
  readonly storage: StorageAdapter;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly ids: IdGenerator;
  readonly namespaces: IdentityNamespaces;
  readonly passwordPolicy?: PasswordPolicy;
}

/** Why a user's credentials changed or the user went away, for the hooks. @internal */
export type UserHookEvent = { readonly type: 'deleted'; readonly record: UserRecord } | { readonly type: 'password_changed' | 'deactivated'; readonly record: UserRecord };

/** Options of writes that support optimistic concurrency. */
export interface WriteOptions {
  /** Apply only if the user's `version` still equals this; else `CONFLICT`. */
  readonly ifVersion?: number;
}

/** Options of {@link UserService.setPassword}. */
export interface SetPasswordOptions extends WriteOptions {
  /** Revoke every session of the user (default true): a reset must lock out whoever had the old password. */
  readonly revokeSessions?: boolean;
}

const writeOptionsSchema = z.strictObject({ ifVersion: z.number().int().min(1).optional() }).optional();
const setPasswordOptionsSchema = z.strictObject({ ifVersion: z.number().int().min(1).optional(), revokeSessions: z.boolean().optional() }).optional();
const currentPasswordSchema = z.string().min(1).max(4096);
const MAX_CAS_ATTEMPTS = 8;
const MAX_ADDRESSES = 32;
const DUMMY_PASSWORD = 'digital-fabrica: equalises the timing of unknown accounts';

/** @internal The public view of a record. */
export function toUser(record: UserRecord, version: number): User {
  return {
    id: record.id,
    email: record.email,
    displayName: record.displayName,
    tier: record.tier,
    status: record.status,
    roles: record.roles,
    addresses: record.addresses,
    hasPassword: record.passwordHash !== null,
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    version,
  };
}

/**
 * Users: create, read, update, delete and list, with email uniqueness held by one storage
 * transaction (the user document and an email index document are written together, the index
 * only if absent), so concurrent creates with one email on any backend yield exactly one user.
 * Passwords are hashed with the security module (argon2id by default) and never returned.
 * Deleting a user removes its email index, linked addresses and MFA credential in the same
 * transaction and then revokes every session; `Identity.authenticate` and refresh also check
 * that the user still exists, so its tokens stop working at once.
 *
 * Obtain it from `createIdentity(...).users`.
 *
 * @example
 * ```ts
 * import { createIdentity } from 'digital-fabrica/identity';
 * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
 * const identity = await createIdentity({ storage: createMemoryStorage(), issuer: 'https://auth.example', audience: 'api' });
 * const ada = await identity.users.create({ email: 'ada@example.com', displayName: 'Ada' });
 * console.log((await identity.users.get(ada.id)).email); // 'ada@example.com'
 * ```
 */
export class UserService {
  readonly #deps: UserServiceDeps;
  readonly #hooks: ((event: UserHookEvent) => Promise<void>)[] = [];
  #dummyHash: Promise<string> | undefined;

  /** @internal Obtain it from `createIdentity`. */
  constructor(deps: UserServiceDeps) {
    this.#deps = deps;
  }

  /**
   * Creates a user; the email (if any) must not belong to another user.
   *
   * @throws `VALIDATION_FAILED` for invalid input; `CONFLICT` when the email is taken.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { users } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const user = await users.create({ email: 'Ada@Example.com', displayName: 'Ada', roles: { acme: ['admin'] } });
   * console.log(user.email, user.tier, user.status); // 'ada@example.com' 1 'active'
   * ```
   */
  async create(input: CreateUserInput): Promise<User> {
    const parsed = parseInput(createUserInputSchema, input, 'user');
    const passwordHash = parsed.password === undefined ? null : await hashPassword(parsed.password, this.#deps.passwordPolicy);
    const now = this.#deps.clock.now();
    const record: UserRecord = {
      id: this.#deps.ids.next(),
      email: parsed.email ?? null,
      displayName: parsed.displayName,
      tier: parsed.tier,
      status: parsed.status,
      roles: parsed.roles,
      addresses: [],
      passwordHash,
      passwordChangedAt: passwordHash === null ? null : now,
      createdAt: now,
      updatedAt: now,
    };
    return this.insert(record);
  }

  /**
   * @internal Writes a new user record (and its email index, and address links) atomically.
   */
  async insert(record: UserRecord): Promise<User> {
    const ns = this.#deps.namespaces;
    const compare: TxnCompare[] = [{ namespace: ns.users, key: record.id, exists: false }];
    const success: TxnOp[] = [{ type: 'put', namespace: ns.users, key: record.id, value: record as unknown as JsonValue }];
    if (record.email !== null) {
      compare.push({ namespace: ns.emails, key: record.email, exists: false });
      success.push({ type: 'put', namespace: ns.emails, key: record.email, value: { userId: record.id } });
    }
    for (const address of record.addresses) {
      compare.push({ namespace: ns.addresses, key: address.toLowerCase(), exists: false });
      success.push({ type: 'put', namespace: ns.addresses, key: address.toLowerCase(), value: { userId: record.id, address } });
    }
    const result = await this.#deps.storage.txn({ compare, success });
    if (!result.succeeded) throw new ConflictError('a user with this email or address already exists', { details: { field: record.email !== null ? 'email' : 'address' } });
    this.#deps.logger.info('user created', { userId: record.id });
    return toUser(record, result.results[0]!.version!);
  }

  /**
   * Reads a user.
   *
   * @throws `NOT_FOUND`; `VALIDATION_FAILED` for a malformed id.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { users } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const { id } = await users.create({ displayName: 'Grace' });
   * console.log((await users.get(id)).displayName); // 'Grace'
   * ```
   */
  async get(id: string): Promise<User> {
    const found = await this.find(id);
    if (!found) throw new NotFoundError('no such user');
    return found;
  }

  /**
   * Reads a user, or `null`.
   *
   * @throws `VALIDATION_FAILED` for a malformed id.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { users } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * console.log(await users.find('0198c2f0-0000-7000-8000-000000000000')); // null
   * ```
   */
  async find(id: string): Promise<User | null> {
    const doc = await this.record(parseInput(idSchema, id, 'user id'));
    return doc ? toUser(doc.value, doc.version) : null;
  }

  /**
   * Finds a user by email (normalised first), or `null`.
   *
   * @throws `VALIDATION_FAILED` for an invalid address.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { users } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * await users.create({ email: 'ada@example.com', displayName: 'Ada' });
   * console.log((await users.findByEmail('ADA@example.com'))?.displayName); // 'Ada'
   * ```
   */
  async findByEmail(email: string): Promise<User | null> {
    const doc = await this.recordByEmail(parseInput(emailSchema, email, 'email'));
    return doc ? toUser(doc.value, doc.version) : null;
  }

  /**
   * Changes any of email, display name, tier, status and roles. A new email is claimed in the same
   * transaction that releases the old one. Setting a status other than `active` revokes every
   * session of the user.
   *
   * @throws `NOT_FOUND`; `CONFLICT` when the email is taken or `ifVersion` is stale;
   * `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { users } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const ada = await users.create({ email: 'ada@example.com', displayName: 'Ada' });
   * const moved = await users.update(ada.id, { email: 'ada@lovelace.example', tier: 3 }, { ifVersion: ada.version });
   * console.log(moved.email, moved.tier); // 'ada@lovelace.example' 3
   * ```
   */
  async update(id: string, patch: UpdateUserInput, options?: WriteOptions): Promise<User> {
    const userId = parseInput(idSchema, id, 'user id');
    const changes = parseInput(updateUserInputSchema, patch, 'user update');
    const { ifVersion } = parseInput(writeOptionsSchema, options, 'write options') ?? {};
    let deactivated: UserRecord | undefined;
    const user = await this.#mutate(userId, ifVersion, (current) => {
      const next: UserRecord = { ...current, ...changes, email: changes.email === undefined ? current.email : changes.email } as UserRecord;
      deactivated = current.status === 'active' && next.status !== 'active' ? next : undefined;
      return next;
    });
    if (deactivated) await this.#emit({ type: 'deactivated', record: deactivated });
    return user;
  }

  /**
   * Replaces the roles of a user in one tenant (an empty list removes the tenant).
   *
   * @throws `NOT_FOUND`; `CONFLICT` for a stale `ifVersion`; `VALIDATION_FAILED`.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { users } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const u = await users.create({ displayName: 'Ops' });
   * console.log((await users.setRoles(u.id, 'acme', ['operator', 'viewer'])).roles); // { acme: ['operator', 'viewer'] }
   * ```
   */
  async setRoles(id: string, tenantId: string, roles: readonly string[], options?: WriteOptions): Promise<User> {
    const userId = parseInput(idSchema, id, 'user id');
    const tenant = parseInput(tenantIdSchema, tenantId, 'tenant id');
    const list = [...new Set(parseInput(z.array(roleNameSchema).max(64), roles, 'roles'))].sort();
    const { ifVersion } = parseInput(writeOptionsSchema, options, 'write options') ?? {};
    return this.#mutate(userId, ifVersion, (current) => {
      const next = { ...current.roles };
      if (list.length === 0) delete next[tenant];
      else next[tenant] = list;
      return { ...current, roles: next };
    });
  }

  /**
   * Deletes a user: the user, its email index, its linked addresses and its MFA credential go in
   * one transaction; then every session is revoked and its wallets are deleted (crypto-shredding
   * the encrypted mnemonics).
   *
   * @throws `NOT_FOUND`; `CONFLICT` for a stale `ifVersion`.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { users } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const u = await users.create({ email: 'gone@example.com', displayName: 'Gone' });
   * await users.delete(u.id);
   * console.log(await users.find(u.id)); // null
   * ```
   */
  async delete(id: string, options?: WriteOptions): Promise<void> {
    const userId = parseInput(idSchema, id, 'user id');
    const { ifVersion } = parseInput(writeOptionsSchema, options, 'write options') ?? {};
    const ns = this.#deps.namespaces;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const doc = await this.record(userId);
      if (!doc) throw new NotFoundError('no such user');
      if (ifVersion !== undefined && doc.version !== ifVersion) throw new ConflictError('the user changed since it was read', { details: { version: doc.version } });
      const record = doc.value;
      const success: TxnOp[] = [
        { type: 'delete', namespace: ns.users, key: userId },
        { type: 'delete', namespace: ns.mfa, key: userId },
        ...(record.email !== null ? [{ type: 'delete' as const, namespace: ns.emails, key: record.email }] : []),
        ...record.addresses.map((a) => ({ type: 'delete' as const, namespace: ns.addresses, key: a.toLowerCase() })),
      ];
      const result = await this.#deps.storage.txn({ compare: [{ namespace: ns.users, key: userId, version: doc.version }], success });
      if (!result.succeeded) continue;
      this.#deps.logger.info('user deleted', { userId });
      await this.#emit({ type: 'deleted', record });
      return;
    }
    throw new ConflictError('the user kept changing; retry');
  }

  /**
   * Lists users in creation order (ids are UUIDv7), one page at a time.
   *
   * @throws `VALIDATION_FAILED` for a bad cursor or limit.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { users } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * for (const name of ['a', 'b', 'c']) await users.create({ displayName: name });
   * const first = await users.list({ limit: 2 });
   * const rest = await users.list({ cursor: first.cursor!, limit: 2 });
   * console.log(first.items.length, rest.items.length, rest.cursor); // 2 1 null
   * ```
   */
  async list(input?: ListUsersInput): Promise<UserPage> {
    const { cursor, limit } = parseInput(listUsersInputSchema, input, 'user listing') ?? {};
    const page = await this.#deps.storage.list<JsonValue>(this.#deps.namespaces.users, { cursor, limit: limit ?? 100 });
    return { items: page.items.map((doc) => toUser(doc.value as unknown as UserRecord, doc.version)), cursor: page.cursor };
  }

  /**
   * Sets (or resets) a user's password, without asking for the old one: for administrators and
   * reset flows. Revokes every session by default.
   *
   * @throws `NOT_FOUND`; `CONFLICT` for a stale `ifVersion`; `VALIDATION_FAILED` for a password
   * shorter than 8 characters.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { users } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const u = await users.create({ email: 'ada@example.com', displayName: 'Ada' });
   * console.log((await users.setPassword(u.id, 'a long passphrase')).hasPassword); // true
   * ```
   */
  async setPassword(id: string, password: string, options?: SetPasswordOptions): Promise<User> {
    const userId = parseInput(idSchema, id, 'user id');
    const secret = parseInput(passwordSchema, password, 'password');
    const { ifVersion, revokeSessions = true } = parseInput(setPasswordOptionsSchema, options, 'password options') ?? {};
    const passwordHash = await hashPassword(secret, this.#deps.passwordPolicy);
    let changed: UserRecord | undefined;
    const user = await this.#mutate(userId, ifVersion, (current) => {
      changed = { ...current, passwordHash, passwordChangedAt: this.#deps.clock.now() };
      return changed;
    });
    if (revokeSessions && changed) await this.#emit({ type: 'password_changed', record: changed });
    return user;
  }

  /**
   * Changes a password after checking the current one; revokes every session.
   *
   * @throws `AUTH_INVALID_CREDENTIALS` when the current password is wrong (or none is set);
   * `NOT_FOUND`; `VALIDATION_FAILED` for a weak new password.
   * @example
   * ```ts
   * import { createIdentity } from 'digital-fabrica/identity';
   * import { createMemoryStorage } from 'digital-fabrica/adapters/memory';
   * const { users } = await createIdentity({ storage: createMemoryStorage(), issuer: 'i', audience: 'a' });
   * const u = await users.create({ email: 'ada@example.com', displayName: 'Ada', password: 'first passphrase' });
   * await users.changePassword(u.id, 'first passphrase', 'second passphrase');
   * ```
   */
  async changePassword(id: string, currentPassword: string, newPassword: string): Promise<User> {
    const userId = parseInput(idSchema, id, 'user id');
    const current = parseInput(currentPasswordSchema, currentPassword, 'current password');
    parseInput(passwordSchema, newPassword, 'new password');
    const doc = await this.record(userId);
    if (!doc) throw new NotFoundError('no such user');
    const stored = doc.value.passwordHash;
    if (stored === null || !(await verifyPassword(stored, current))) throw new InvalidCredentialsError('password');
    // ifVersion: a concurrent change since we checked the old password must not be overwritten.
    return this.setPassword(userId, newPassword, { ifVersion: doc.version });
  }

  /**
   * @internal Checks an email and password. Unknown emails and users without a password cost a
   * full hash too, so timing does not reveal which accounts exist. Upgrades outdated hashes.
   */
  async checkPassword(email: string, password: string): Promise<Doc<UserRecord> | null> {
    const doc = await this.recordByEmail(email);
    const stored = doc?.value.passwordHash ?? null;
    const ok = await verifyPassword(stored ?? (await this.#dummy()), password);
    if (!doc || stored === null || !ok) return null;
    if (needsRehash(stored, this.#deps.passwordPolicy)) {
      // Best effort: a concurrent write wins and the upgrade happens at the next login.
      const upgraded = await hashPassword(password, this.#deps.passwordPolicy);
      await this.#deps.storage
        .put(this.#deps.namespaces.users, doc.value.id, { ...doc.value, passwordHash: upgraded } as unknown as JsonValue, { ifVersion: doc.version })
        .catch(() => undefined);
    }
    return doc;
  }

  /** @internal The stored record. */
  async record(id: string): Promise<Doc<UserRecord> | null> {
    const doc = await this.#deps.storage.get(this.#deps.namespaces.users, id);
    return doc as unknown as Doc<UserRecord> | null;
  }

  /** @internal The stored record behind a normalised email. */
  async recordByEmail(email: string): Promise<Doc<UserRecord> | null> {
    const index = await this.#deps.storage.get<{ userId: string }>(this.#deps.namespaces.emails, email);
    if (!index) return null;
    const doc = await this.record(index.value.userId);
    // An index entry always points at a user with that email (they are written together); the
    // check guards against hand-edited storage.
    return doc && doc.value.email === email ? doc : null;
  }

  /**
   * @internal Links an Ethereum address to an existing user (atomically: the address must be free).
   */
  async linkAddress(userId: string, address: string): Promise<User> {
    const ns = this.#deps.namespaces;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const doc = await this.record(userId);
      if (!doc) throw new NotFoundError('no such user');
      if (doc.value.addresses.includes(address)) return toUser(doc.value, doc.version);
      // Bounded so a user's deletion stays one transaction (at most 128 documents).
      if (doc.value.addresses.length >= MAX_ADDRESSES) throw new ConflictError(`a user may link at most ${MAX_ADDRESSES} addresses`, { details: { field: 'addresses' } });
      const next: UserRecord = { ...doc.value, addresses: [...doc.value.addresses, address], updatedAt: this.#deps.clock.now() };
      const key = address.toLowerCase();
      const result = await this.#deps.storage.txn({
        compare: [
          { namespace: ns.users, key: userId, version: doc.version },
          { namespace: ns.addresses, key, exists: false },
        ],
        success: [
          { type: 'put', namespace: ns.users, key: userId, value: next as unknown as JsonValue },
          { type: 'put', namespace: ns.addresses, key, value: { userId, address } },
        ],
      });
      if (result.succeeded) return toUser(next, result.results[0]!.version!);
      const owner = await this.#deps.storage.get<{ userId: string }>(ns.addresses, key);
      if (owner && owner.value.userId !== userId) throw new ConflictError('the address is linked to another user', { details: { field: 'address' } });
    }
    throw new ConflictError('the user kept changing; retry');
  }

  /** @internal The user an address is linked to. */
  async userIdByAddress(address: string): Promise<string | null> {
    const link = await this.#deps.storage.get<{ userId: string }>(this.#deps.namespaces.addresses, address.toLowerCase());
    return link?.value.userId ?? null;
  }

  /** @internal Registers a hook run after deletions, password changes and deactivations. */
  addHook(hook: (event: UserHookEvent) => Promise<void>): void {
    this.#hooks.push(hook);
  }

  async #emit(event: UserHookEvent): Promise<void> {
    for (const hook of this.#hooks) {
      try {
        await hook(event);
      } catch (err) {
        // The primary write is done; tokens of a deleted or deactivated user are refused anyway
        // (authenticate and refresh check the user), so a failed cleanup is logged, not thrown.
        this.#deps.logger.error('user cleanup failed', { userId: event.record.id, event: event.type, code: (err as { code?: string }).code ?? 'UNKNOWN' });
      }
    }
  }

  async #mutate(userId: string, ifVersion: number | undefined, change: (current: UserRecord) => UserRecord): Promise<User> {
    const ns = this.#deps.namespaces;
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const doc = await this.record(userId);
      if (!doc) throw new NotFoundError('no such user');
      if (ifVersion !== undefined && doc.version !== ifVersion) throw new ConflictError('the user changed since it was read', { details: { version: doc.version } });
      const current = doc.value;
      const next: UserRecord = { ...change(current), id: current.id, createdAt: current.createdAt, updatedAt: this.#deps.clock.now() };
      const compare: TxnCompare[] = [{ namespace: ns.users, key: userId, version: doc.version }];
      const success: TxnOp[] = [{ type: 'put', namespace: ns.users, key: userId, value: next as unknown as JsonValue }];
      if (next.email !== current.email) {
        if (next.email !== null) {
          compare.push({ namespace: ns.emails, key: next.email, exists: false });
          success.push({ type: 'put', namespace: ns.emails, key: next.email, value: { userId } });
        }
        if (current.email !== null) success.push({ type: 'delete', namespace: ns.emails, key: current.email });
      }
      const result = await this.#deps.storage.txn({ compare, success });
      if (result.succeeded) return toUser(next, result.results[0]!.version!);
      if (next.email !== null && next.email !== current.email && (await this.#deps.storage.get(ns.emails, next.email))) {
        throw new ConflictError('a user with this email already exists', { details: { field: 'email' } });
      }
      if (ifVersion !== undefined) throw new ConflictError('the user changed since it was read');
    }
    throw new ConflictError('the user kept changing; retry');
  }

  #dummy(): Promise<string> {
    this.#dummyHash ??= hashPassword(DUMMY_PASSWORD, this.#deps.passwordPolicy);
    return this.#dummyHash;
  }
}
