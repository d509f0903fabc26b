/**
 * The storage-backed access control service: the pure policy runtime, persisted through the
 * StorageAdapter and kept current across processes through PubSub plus a revision check.
 *
 * Consistency, in one place (see docs/guides/access-control.md):
 * - Every change is one transaction comparing the version of the global revision document and
 *   bumping it, so concurrent administrators never lose updates and every validation (cycles,
 *   role existence) holds at commit time.
 * - Each instance holds a compiled snapshot at a known revision. It reloads when a change is
 *   announced on PubSub, when `checkPermission` finds the snapshot older than
 *   `revalidateIntervalMs`, and every `pollIntervalMs` in the background; each reload first reads
 *   the revision document (one `get`), so an unchanged policy costs one read.
 * - A snapshot that cannot be verified for `maxStalenessMs` is never used: `can()` fails closed.
 */
import { z } from 'zod';
import type { JsonValue, TxnOp } from '../../../adapters/storage.js';
import type { Unsubscribe } from '../../../adapters/pubsub.js';
import { systemClock } from '../../../core/clock.js';
import { AdapterClosedError, ConflictError } from '../../../core/errors.js';
import { silentLogger } from '../../../core/logger.js';
import { parseInput } from '../../../core/validation.js';
import { Mutex } from '../internal/mutex.js';
import {
  bindingInputSchema,
  grantInputSchema,
  revokeInputSchema,
  roleDefinitionSchema,
  roleRefSchema,
  type BindingInput,
  type GrantInput,
  type RevokeInput,
  type RoleDefinition,
  type RoleRef,
} from '../model/inputs.js';
import { isNoop, planBind, planDefineRole, planDeleteRole, planGrant, planRevoke, planUnbind, type Plan } from '../model/planner.js';
import { newGeneration, policyRecordSchema, type PolicyRecord, type ScopeId } from '../model/records.js';
import type { PolicyState } from '../model/state.js';
import { readResource, readUserId, type ResourceInput, type UserInput } from '../model/subjects.js';
import { assertAction } from '../engine/compile.js';
import type { Explanation } from '../engine/explain.js';
import type { PermittedResources } from '../engine/permitted.js';
import { PolicyRuntime, deniedError, type BindingInfo, type GrantInfo, type PolicyChange, type ResourceTypeInput, type RoleInfo } from '../runtime.js';
import { REVISION_KEY, recordKey, scopeRevisionKey } from './layout.js';
import { loadChanges, type LoadedChanges, type RevisionHead } from './loader.js';
import { accessControlOptionsSchema, type AccessControlOptions, type ResolvedOptions } from './options.js';

/**
 * Resource-level RBAC backed by storage, shared by every instance of the host.
 * Checks are answered from a compiled in-memory index; administration writes through storage.
 *
 * @example
 * ```ts
 * import { createAccessControl, type AccessControl } from 'digital-fabrica/security';
 * import { createMemoryPubSub, createMemoryStorage } from 'digital-fabrica/adapters/memory';
 * const access: AccessControl = await createAccessControl({ storage: createMemoryStorage(), pubsub: createMemoryPubSub() });
 * if (!access.can('ada', 'tenants/acme/tasks/1', 'read')) console.log(access.explain('ada', 'tenants/acme/tasks/1', 'read').reason);
 * ```
 */
export interface AccessControl {
  /**
   * The spec's check: verifies the policy revision if it was last verified more than
   * `revalidateIntervalMs` ago (reloading if it changed), then decides from the index.
   * @throws `VALIDATION_FAILED`; storage errors only once the policy is older than `maxStalenessMs`.
   */
  checkPermission(user: UserInput, resource: ResourceInput, action: string): Promise<boolean>;
  /**
   * {@link checkPermission}, throwing when denied.
   * @throws `ACCESS_DENIED` with the explanation in `details`; `VALIDATION_FAILED`.
   */
  authorize(user: UserInput, resource: ResourceInput, action: string): Promise<void>;
  /**
   * Synchronous check from the loaded index, for hot paths; fails closed (false) while the policy
   * is unverified for longer than `maxStalenessMs`.
   * @throws `VALIDATION_FAILED`
   */
  can(user: UserInput, resource: ResourceInput, action: string): boolean;
  /** The decision and why, from the loaded policy (agrees with {@link can}). @throws `VALIDATION_FAILED` */
  explain(user: UserInput, resource: ResourceInput, action: string): Explanation;
  /** What the user may do with the instances of one type, as a filter. @throws `VALIDATION_FAILED` */
  listPermitted(user: UserInput, action: string, type: ResourceTypeInput): PermittedResources;
  /**
   * Defines or redefines a role (omit `tenant` for a template).
   * @throws `VALIDATION_FAILED`, `NOT_FOUND`, `CONFLICT`, `ACCESS_ROLE_CYCLE`, storage errors.
   */
  defineRole(definition: RoleDefinition): Promise<PolicyChange>;
  /** Deletes a role with its rules and bindings. @throws `VALIDATION_FAILED`, `CONFLICT`, storage errors. */
  deleteRole(role: RoleRef): Promise<PolicyChange>;
  /** Grants a rule to a role or directly to a user. @throws `VALIDATION_FAILED`, `NOT_FOUND`, storage errors. */
  grant(grant: GrantInput): Promise<PolicyChange>;
  /** Revokes a rule by id or body. @throws `VALIDATION_FAILED`, storage errors. */
  revoke(rule: RevokeInput): Promise<PolicyChange>;
  /** Binds a user to a role in a tenant. @throws `VALIDATION_FAILED`, `NOT_FOUND`, storage errors. */
  bindUser(binding: BindingInput): Promise<PolicyChange>;
  /** Removes a binding. @throws `VALIDATION_FAILED`, storage errors. */
  unbindUser(binding: BindingInput): Promise<PolicyChange>;
  /** A tenant's roles, or the templates. @throws `VALIDATION_FAILED` */
  listRoles(tenant?: string): RoleInfo[];
  /** Live rules of a role or of a user's direct grants. @throws `VALIDATION_FAILED` */
  listGrants(holder: { readonly tenant?: string; readonly role: string } | { readonly tenant: string; readonly user: string }): GrantInfo[];
  /** Live bindings of a tenant, optionally of one user. @throws `VALIDATION_FAILED` */
  listBindings(filter: { readonly tenant: string; readonly user?: string }): BindingInfo[];
  /** The policy revision the loaded index reflects. */
  readonly loadedRevision: number;
  /**
   * True when a newer revision was announced but is not loaded yet, or when the loaded policy
   * could not be verified for longer than `maxStalenessMs` (then `can()` fails closed).
   */
  readonly isStale: boolean;
  /** When (clock ms) the loaded policy was last confirmed current against storage. */
  readonly verifiedAt: number;
  /** Verifies the revision now and reloads what changed; resolves with the loaded revision. @throws storage errors */
  revalidate(): Promise<number>;
  /** Stops listening and polling. Never closes the adapters (they belong to the host). Idempotent. */
  close(): Promise<void>;
}

const announcementSchema = z.object({ origin: z.string(), revision: z.number().int().min(1), scopes: z.array(z.string()).max(16) });

// Attempts of a write that keeps losing the revision race to other writers before giving up.
const MAX_WRITE_ATTEMPTS = 16;
// Operations per transaction: the contract allows 128 documents; keep room for the revision docs.
const MAX_TXN_OPS = 100;
const GC_CHUNK = 50;

/**
 * Creates the access control service: loads and compiles the policy, subscribes to change
 * announcements, starts background re-verification. Share `storage` and `pubsub` between
 * instances (processes) and they enforce one policy.
 *
 * @throws `VALIDATION_FAILED` for bad options; storage/pubsub errors when the initial load fails.
 * @example
 * ```ts
 * import { createAccessControl } from 'digital-fabrica/security';
 * import { createMemoryPubSub, createMemoryStorage } from 'digital-fabrica/adapters/memory';
 * const access = await createAccessControl({ storage: createMemoryStorage(), pubsub: createMemoryPubSub() });
 * await access.defineRole({ name: 'viewer' });
 * await access.grant({ role: 'viewer', action: 'read', resource: 'tasks' });
 * await access.bindUser({ tenant: 'acme', user: 'ada', role: 'viewer' });
 * console.log(await access.checkPermission('ada', 'tenants/acme/tasks/123', 'read')); // true
 * await access.close();
 * ```
 */
export async function createAccessControl(options: AccessControlOptions): Promise<AccessControl> {
  const o = parseInput(accessControlOptionsSchema, options, 'access control options') as AccessControlOptions;
  const service = new AccessControlService({
    storage: o.storage,
    pubsub: o.pubsub,
    clock: o.clock ?? systemClock,
    logger: o.logger ?? silentLogger,
    events: o.events,
    namespace: o.namespace ?? 'rbac',
    channel: o.channel ?? 'fabrica.rbac',
    revalidateIntervalMs: o.revalidateIntervalMs ?? 1000,
    pollIntervalMs: o.pollIntervalMs ?? 1000,
    maxStalenessMs: o.maxStalenessMs ?? 30_000,
    mergeLimit: o.mergeLimit,
  });
  await service.start();
  return service;
}

function errorCode(err: unknown): string {
  return (err as { code?: unknown } | null)?.code?.toString() ?? (err instanceof Error ? err.name : 'UNKNOWN');
}

class AccessControlService implements AccessControl {
  readonly #o: ResolvedOptions;
  readonly #runtime: PolicyRuntime;
  readonly #mutex = new Mutex();
  // Identifies this instance's announcements, so it ignores its own echoes.
  readonly #origin = globalThis.crypto.randomUUID();
  #head: RevisionHead = { revision: 0, version: 0 };
  readonly #scopeRevisions = new Map<ScopeId, number>();
  #verifiedAt = Number.NEGATIVE_INFINITY;
  #announced = 0;
  #hints = new Set<ScopeId>();
  #running: Promise<number> | null = null;
  #queued: Promise<number> | null = null;
  #unsubscribe: Unsubscribe | undefined;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;
  #alerted = false;

  constructor(options: ResolvedOptions) {
    this.#o = options;
    this.#runtime = new PolicyRuntime(options.mergeLimit);
  }

  async start(): Promise<void> {
    const { storage, pubsub, channel } = this.#o;
    await Promise.all([storage.init(), pubsub.init()]);
    // Subscribe before loading, so no announcement can fall between the load and the subscription.
    this.#unsubscribe = await pubsub.subscribe(channel, (message) => this.#onAnnouncement(message));
    try {
      await this.revalidate();
    } catch (err) {
      await this.close();
      throw err;
    }
    this.#runtime.compileAll();
    if (this.#o.pollIntervalMs > 0) {
      this.#timer = setInterval(() => {
        this.revalidate().catch((err: unknown) => this.#onRefreshFailure(err));
      }, this.#o.pollIntervalMs);
      // Never keep the host process alive just to poll.
      (this.#timer as { unref?: () => void }).unref?.();
    }
  }

  get loadedRevision(): number {
    return this.#head.revision;
  }

  get verifiedAt(): number {
    return this.#verifiedAt;
  }

  get isStale(): boolean {
    return this.#announced > this.#head.revision || this.#expired();
  }

  #expired(): boolean {
    return this.#o.clock.now() - this.#verifiedAt > this.#o.maxStalenessMs;
  }

  // ---- checks ----------------------------------------------------------------------------

  can(user: UserInput, resource: ResourceInput, action: string): boolean {
    if (this.#expired()) {
      // Still reject malformed input, so behaviour does not depend on freshness.
      readUserId(user);
      readResource(resource, true);
      assertAction(action);
      this.#alertStale();
      return false;
    }
    return this.#runtime.can(user, resource, action);
  }

  async checkPermission(user: UserInput, resource: ResourceInput, action: string): Promise<boolean> {
    this.#assertOpen();
    if (this.#o.clock.now() - this.#verifiedAt >= this.#o.revalidateIntervalMs) {
      try {
        await this.revalidate();
      } catch (err) {
        // Within maxStalenessMs the verified snapshot is still good enough; past it, say why.
        if (this.#expired()) throw err;
        this.#onRefreshFailure(err);
      }
    }
    return this.can(user, resource, action);
  }

  async authorize(user: UserInput, resource: ResourceInput, action: string): Promise<void> {
    if (await this.checkPermission(user, resource, action)) return;
    throw deniedError(this.explain(user, resource, action), resource, action);
  }

  explain(user: UserInput, resource: ResourceInput, action: string): Explanation {
    if (this.#expired()) {
      readUserId(user);
      readResource(resource, true);
      assertAction(action);
      return {
        allowed: false,
        reason: 'stale-policy',
        matchedRule: null,
        path: [],
        message: `denied: the access policy (revision ${this.#head.revision}) could not be verified for more than ${this.#o.maxStalenessMs} ms; checks fail closed`,
      };
    }
    return this.#runtime.explain(user, resource, action);
  }

  listPermitted(user: UserInput, action: string, type: ResourceTypeInput): PermittedResources {
    const listing = this.#runtime.listPermitted(user, action, type);
    if (!this.#expired()) return listing;
    const none = () => false;
    return { ...listing, all: false, ids: [], conditional: [], deny: [], exact: true, test: none, filter: () => [] };
  }

  listRoles(tenant?: string): RoleInfo[] {
    return this.#runtime.listRoles(tenant);
  }

  listGrants(holder: { readonly tenant?: string; readonly role: string } | { readonly tenant: string; readonly user: string }): GrantInfo[] {
    return this.#runtime.listGrants(holder);
  }

  listBindings(filter: { readonly tenant: string; readonly user?: string }): BindingInfo[] {
    return this.#runtime.listBindings(filter);
  }

  // ---- administration --------------------------------------------------------------------

  defineRole(definition: RoleDefinition): Promise<PolicyChange> {
    const input = parseInput(roleDefinitionSchema, definition, 'role definition');
    return this.#write((state) => planDefineRole(state, input, newGeneration));
  }

  deleteRole(role: RoleRef): Promise<PolicyChange> {
    const input = parseInput(roleRefSchema, role, 'role');
    return this.#write((state) => planDeleteRole(state, input));
  }

  grant(grant: GrantInput): Promise<PolicyChange> {
    const input = parseInput(grantInputSchema, grant, 'grant');
    return this.#write((state) => planGrant(state, input));
  }

  revoke(rule: RevokeInput): Promise<PolicyChange> {
    const input = parseInput(revokeInputSchema, rule, 'revoke');
    return this.#write((state) => planRevoke(state, input));
  }

  bindUser(binding: BindingInput): Promise<PolicyChange> {
    const input = parseInput(bindingInputSchema, binding, 'binding');
    return this.#write((state) => planBind(state, input));
  }

  unbindUser(binding: BindingInput): Promise<PolicyChange> {
    const input = parseInput(bindingInputSchema, binding, 'binding');
    return this.#write((state) => planUnbind(state, input));
  }

  /**
   * Plans against the current policy and commits in one transaction guarded by the revision
   * document's version; on a lost race, reloads and plans again. Runs under the instance mutex,
   * so a reload never interleaves with applying a committed plan.
   */
  async #write(makePlan: (state: PolicyState) => Plan): Promise<PolicyChange> {
    this.#assertOpen();
    const { storage, namespace } = this.#o;
    return this.#mutex.run(async () => {
      for (let attempt = 0; attempt < MAX_WRITE_ATTEMPTS; attempt++) {
        await this.#refreshLocked([]);
        const plan = makePlan(this.#runtime.state);
        const ruleId = plan.ruleId === undefined ? {} : { ruleId: plan.ruleId };
        if (isNoop(plan)) return { changed: false, revision: this.#head.revision, ...ruleId };
        const next = this.#head.revision + 1;
        const inline = plan.deferred.slice(0, Math.max(0, MAX_TXN_OPS - plan.puts.length - plan.deletes.length));
        const ops: TxnOp[] = [
          ...[...plan.deletes, ...inline].map((r): TxnOp => ({ type: 'delete', namespace, key: recordKey(r) })),
          ...plan.puts.map((r): TxnOp => ({ type: 'put', namespace, key: recordKey(r), value: r as unknown as JsonValue })),
          { type: 'put', namespace, key: REVISION_KEY, value: { revision: next } },
          { type: 'put', namespace, key: scopeRevisionKey(plan.scope), value: { revision: next } },
        ];
        const result = await storage.txn({ compare: [{ namespace, key: REVISION_KEY, version: this.#head.version }], success: ops });
        if (!result.succeeded) continue;
        const version = result.results.find((r) => r.key === REVISION_KEY)?.version ?? 0;
        this.#runtime.apply(plan);
        this.#head = { revision: next, version };
        this.#scopeRevisions.set(plan.scope, next);
        await this.#announce(next, plan.scope);
        const rest = plan.deferred.slice(inline.length);
        if (rest.length > 0) await this.#collect(rest).catch((err: unknown) => this.#o.logger.warn('access policy: leftover records of a deleted role stay until the next cleanup', { code: errorCode(err) }));
        return { changed: true, revision: next, ...ruleId };
      }
      throw new ConflictError('the access policy was changed concurrently too often; try again', { details: { attempts: MAX_WRITE_ATTEMPTS } });
    });
  }

  async #announce(revision: number, scope: ScopeId): Promise<void> {
    try {
      await this.#o.pubsub.publish(this.#o.channel, { origin: this.#origin, revision, scopes: [scope] });
    } catch (err) {
      // Others still converge through their revision checks; the bound just becomes the poll interval.
      this.#o.logger.warn('access policy change not announced; other instances will notice it on their next revision check', { code: errorCode(err), revision });
    }
  }

  /**
   * Deletes records that died with a deleted role's generation, in chunks, each delete guarded by
   * the document's version so that a record written again meanwhile (a role defined anew) survives.
   */
  async #collect(records: readonly PolicyRecord[]): Promise<void> {
    const { storage, namespace } = this.#o;
    const state = this.#runtime.state;
    for (let i = 0; i < records.length; i += GC_CHUNK) {
      const keys = records.slice(i, i + GC_CHUNK).map(recordKey);
      const docs = await storage.getMany(namespace, keys);
      const dead = docs.filter((doc) => {
        const parsed = doc === null ? null : policyRecordSchema.safeParse(doc.value);
        if (!parsed?.success) return false;
        const r = parsed.data;
        return r.kind === 'grant' ? !state.isLiveGrant(r) : r.kind === 'binding' ? !state.isLiveBinding(r) : false;
      });
      if (dead.length === 0) continue;
      await storage.txn({
        compare: dead.map((d) => ({ namespace, key: d!.key, version: d!.version })),
        success: dead.map((d): TxnOp => ({ type: 'delete', namespace, key: d!.key })),
      });
    }
  }

  // ---- keeping current -------------------------------------------------------------------

  revalidate(): Promise<number> {
    if (this.#closed) return Promise.reject(new AdapterClosedError('access control is closed'));
    if (this.#running === null) {
      this.#running = this.#mutex.run(() => this.#refreshLocked(null)).finally(() => {
        this.#running = null;
      });
      return this.#running;
    }
    // One is running, but it may have read the revision before our caller's call began: join the
    // next one, which starts after it (so "verified after the call started" always holds).
    this.#queued ??= this.#running
      .catch(() => undefined)
      .then(() => {
        this.#queued = null;
        return this.revalidate();
      });
    return this.#queued;
  }

  /** Loads what changed (under the mutex). `hint`: scopes an announcement named; `null`: take the pending hints. */
  async #refreshLocked(hint: readonly ScopeId[] | null): Promise<number> {
    const startedAt = this.#o.clock.now();
    const announcedBefore = this.#announced;
    const hints = hint ?? [...this.#hints];
    if (hint === null) this.#hints = new Set();
    const changes = await loadChanges(this.#o.storage, this.#o.namespace, this.#scopeRevisions, this.#head, hints.length > 0 ? hints : undefined);
    if (changes !== null) this.#apply(changes);
    this.#verifiedAt = Math.max(this.#verifiedAt, startedAt);
    // A change is announced only after it commits, so storage read after the announcement arrived
    // shows it. An announcement still ahead of storage was forged or garbled: stop waiting for it.
    if (this.#announced > this.#head.revision && this.#announced === announcedBefore) {
      this.#o.logger.warn('an access policy announcement named a revision storage does not have; ignored', { announced: this.#announced, revision: this.#head.revision });
      this.#announced = this.#head.revision;
    }
    if (this.#alerted) {
      this.#alerted = false;
      this.#o.events?.emit('system:alerts', { name: 'access.policy-verified', severity: 'info', message: 'the access policy is verified again', at: this.#o.clock.now() });
    }
    return this.#head.revision;
  }

  #apply(changes: LoadedChanges): void {
    const state = this.#runtime.state;
    for (const scope of changes.removed) {
      state.replaceScope(scope, []);
      this.#scopeRevisions.delete(scope);
      this.#runtime.invalidate(scope);
    }
    for (const [scope, { revision, records }] of changes.changed) {
      state.replaceScope(scope, records);
      this.#scopeRevisions.set(scope, revision);
      this.#runtime.invalidate(scope);
    }
    this.#head = changes.head;
    // Recompile now, off the check path, rather than on the next check.
    this.#runtime.compileAll();
  }

  #onAnnouncement(message: JsonValue): void {
    const parsed = announcementSchema.safeParse(message);
    if (!parsed.success) {
      this.#o.logger.warn('ignored a malformed access policy announcement', { channel: this.#o.channel });
      return;
    }
    const { origin, revision, scopes } = parsed.data;
    if (origin === this.#origin || revision <= this.#head.revision || this.#closed) return;
    this.#announced = Math.max(this.#announced, revision);
    for (const scope of scopes) this.#hints.add(scope);
    this.revalidate().catch((err: unknown) => this.#onRefreshFailure(err));
  }

  #onRefreshFailure(err: unknown): void {
    if (this.#closed) return;
    this.#o.logger.warn('access policy could not be verified against storage', { code: errorCode(err), revision: this.#head.revision });
    if (this.#expired()) this.#alertStale();
  }

  #alertStale(): void {
    if (this.#alerted || this.#o.events === undefined) return;
    this.#alerted = true;
    this.#o.events.emit('system:alerts', {
      name: 'access.policy-stale',
      severity: 'critical',
      message: `the access policy could not be verified for more than ${this.#o.maxStalenessMs} ms; access checks fail closed`,
      details: { revision: this.#head.revision },
      at: this.#o.clock.now(),
    });
  }

  #assertOpen(): void {
    if (this.#closed) throw new AdapterClosedError('access control is closed');
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    const unsubscribe = this.#unsubscribe;
    this.#unsubscribe = undefined;
    await unsubscribe?.().catch(() => undefined);
  }
}
