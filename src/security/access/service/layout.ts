/**
 * Where the policy lives in the StorageAdapter (one namespace, default `rbac`):
 *
 *   rev                          { revision }  global policy revision, bumped by EVERY change
 *   rev/<scope>                  { revision }  revision of the scope's last change
 *   p/<scope>/r/<role>           role record
 *   p/<scope>/g/<role>/<ruleId>  rule held by a role
 *   p/<scope>/d/<h(user)>/<id>   rule granted directly to a user
 *   p/<scope>/b/<h(user)>/<role> binding
 *
 * `<scope>` is a tenant id or `~templates`. User ids are hashed into keys (`h`) because they are
 * opaque text of any length; the record itself holds the real id. Every change commits in one
 * transaction that compares the version of `rev`, so all changes are serialised: a writer that
 * validated against revision N can only commit on top of N, and a reader that sees `rev`
 * unchanged before and after reading the records has a consistent snapshot.
 */
import { digest, type PolicyRecord, type ScopeId } from '../model/records.js';

/** Key of the global revision document. */
export const REVISION_KEY = 'rev';

/** Key of a scope's revision document. */
export function scopeRevisionKey(scope: ScopeId): string {
  return `rev/${scope}`;
}

/** Prefix of every scope revision document. */
export const SCOPE_REVISION_PREFIX = 'rev/';

/** Prefix of every record of a scope. */
export function scopePrefix(scope: ScopeId): string {
  return `p/${scope}/`;
}

/** The storage key of a record. */
export function recordKey(record: PolicyRecord): string {
  const base = scopePrefix(record.scope);
  switch (record.kind) {
    case 'role':
      return `${base}r/${record.name}`;
    case 'grant':
      return 'role' in record.holder ? `${base}g/${record.holder.role}/${record.id}` : `${base}d/${digest(record.holder.user)}/${record.id}`;
    case 'binding':
      return `${base}b/${digest(record.user)}/${record.role}`;
  }
}
