/**
 * Reads the policy from storage as a consistent snapshot. Listing is paged and not atomic, so the
 * loader reads the global revision before and after; only when it did not move is the result a
 * snapshot (every change bumps it in the same transaction). Otherwise it reads again.
 */
import { ConflictError, FabricaError } from '../../../core/errors.js';
import type { StorageAdapter, StoredDocument } from '../../../adapters/storage.js';
import { policyRecordSchema, type PolicyRecord, type ScopeId } from '../model/records.js';
import { REVISION_KEY, SCOPE_REVISION_PREFIX, scopePrefix, scopeRevisionKey } from './layout.js';

/** The global revision and the storage version of its document (0 when absent). */
export interface RevisionHead {
  readonly revision: number;
  readonly version: number;
}

/** Scopes read at one revision. */
export interface LoadedChanges {
  readonly head: RevisionHead;
  /** Changed (or new) scopes with their revision and every record. */
  readonly changed: ReadonlyMap<ScopeId, { readonly revision: number; readonly records: readonly PolicyRecord[] }>;
  /** Scopes known before that no longer exist (storage was emptied). */
  readonly removed: readonly ScopeId[];
}

const PAGE = 1000;
const MAX_SNAPSHOT_ATTEMPTS = 8;

function revisionOf(doc: StoredDocument | null): number {
  const value = doc?.value as { revision?: unknown } | undefined;
  return typeof value?.revision === 'number' ? value.revision : 0;
}

/** Reads the global revision. */
export async function readHead(storage: StorageAdapter, namespace: string): Promise<RevisionHead> {
  const doc = await storage.get(namespace, REVISION_KEY);
  return { revision: revisionOf(doc), version: doc?.version ?? 0 };
}

async function listAll(storage: StorageAdapter, namespace: string, prefix: string): Promise<StoredDocument[]> {
  const out: StoredDocument[] = [];
  let cursor: string | undefined;
  for (;;) {
    const page = await storage.list(namespace, { prefix, limit: PAGE, ...(cursor === undefined ? {} : { cursor }) });
    out.push(...page.items);
    if (page.cursor === null) return out;
    cursor = page.cursor;
  }
}

function parseRecord(doc: StoredDocument, scope: ScopeId): PolicyRecord {
  const parsed = policyRecordSchema.safeParse(doc.value);
  // Never skip a bad record: a skipped deny rule would silently widen access.
  if (!parsed.success || parsed.data.scope !== scope) {
    throw new FabricaError('INTERNAL', 'a stored policy document is malformed; refusing to load a partial policy', {
      details: { namespace: doc.namespace, key: doc.key },
      ...(parsed.success ? {} : { cause: parsed.error }),
    });
  }
  return parsed.data;
}

/** Every record of a scope. */
async function loadScope(storage: StorageAdapter, namespace: string, scope: ScopeId): Promise<PolicyRecord[]> {
  const docs = await listAll(storage, namespace, scopePrefix(scope));
  return docs.map((doc) => parseRecord(doc, scope));
}

/**
 * Loads what changed since `known` (scope → revision) as one snapshot, or returns `null` when the
 * global revision document still has version `knownVersion`. `hint` names the scopes a pub/sub
 * message said changed; it is trusted only after checking the scope's revision document.
 * @throws `CONFLICT` (retryable) when the policy kept changing during every attempt; storage errors.
 */
export async function loadChanges(
  storage: StorageAdapter,
  namespace: string,
  known: ReadonlyMap<ScopeId, number>,
  knownHead: RevisionHead,
  hint?: readonly ScopeId[],
): Promise<LoadedChanges | null> {
  let head = await readHead(storage, namespace);
  if (head.version === knownHead.version) return null;
  for (let attempt = 0; attempt < MAX_SNAPSHOT_ATTEMPTS; attempt++) {
    let scopes: Map<ScopeId, number> | null = null;
    // One change since what we hold, and the message says where: verify and read only that scope.
    if (hint !== undefined && hint.length === 1 && head.revision === knownHead.revision + 1) {
      const doc = await storage.get(namespace, scopeRevisionKey(hint[0]!));
      if (revisionOf(doc) === head.revision) scopes = new Map([[hint[0]!, head.revision]]);
    }
    let removed: ScopeId[] = [];
    if (scopes === null) {
      const all = new Map<ScopeId, number>();
      for (const doc of await listAll(storage, namespace, SCOPE_REVISION_PREFIX)) all.set(doc.key.slice(SCOPE_REVISION_PREFIX.length), revisionOf(doc));
      scopes = new Map([...all].filter(([scope, revision]) => known.get(scope) !== revision));
      removed = [...known.keys()].filter((scope) => !all.has(scope));
    }
    const changed = new Map<ScopeId, { revision: number; records: PolicyRecord[] }>();
    for (const [scope, revision] of scopes) changed.set(scope, { revision, records: await loadScope(storage, namespace, scope) });
    const tail = await readHead(storage, namespace);
    if (tail.version === head.version) return { head, changed, removed };
    head = tail;
  }
  throw new ConflictError('the access policy kept changing while it was being loaded; try again', { details: { attempts: MAX_SNAPSHOT_ATTEMPTS } });
}
