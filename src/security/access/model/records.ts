/**
 * The policy as data: three kinds of records (role, grant, binding). The in-memory state holds
 * them, the storage layer persists each as one document, and the compiler reads them. Records
 * are plain JSON, validated when read back from storage.
 */
import { sha256 } from '@noble/hashes/sha2.js';
import { z } from 'zod';
import { actionRuleSchema } from './action.js';
import { conditionSchema, type Condition } from './condition.js';
import { roleNameSchema, tenantSchema, userIdSchema } from './names.js';
import { parsePattern } from './path.js';

/** The scope id of role templates (a tenant id can never contain `~`). */
export const TEMPLATE_SCOPE = '~templates';

/** A scope: a tenant id, or {@link TEMPLATE_SCOPE}. */
export type ScopeId = string;

/** Allow or deny. Deny always wins. */
export type Effect = 'allow' | 'deny';

/** What a rule permits or forbids. */
export interface RuleBody {
  readonly effect: Effect;
  readonly action: string;
  /** Canonical pattern text (see `parsePattern`). */
  readonly resource: string;
  readonly condition?: Condition;
}

/** A role. `gen` changes only when the role is deleted and defined again, so grants and bindings of a deleted role stay dead. */
export interface RoleRecord {
  readonly kind: 'role';
  readonly scope: ScopeId;
  readonly name: string;
  readonly gen: string;
  readonly inherits: readonly string[];
  readonly description?: string;
}

/** A rule held by a role (of the role's generation) or granted directly to a user in a tenant. */
export interface GrantRecord extends RuleBody {
  readonly kind: 'grant';
  readonly scope: ScopeId;
  /** Content hash of the rule body; unique per holder. */
  readonly id: string;
  readonly holder: { readonly role: string; readonly gen: string } | { readonly user: string };
}

/** A user bound to a role in a tenant, valid while the role keeps generation `gen`. */
export interface BindingRecord {
  readonly kind: 'binding';
  readonly scope: ScopeId;
  readonly user: string;
  readonly role: string;
  readonly gen: string;
}

/** Any policy record. */
export type PolicyRecord = RoleRecord | GrantRecord | BindingRecord;

const scopeSchema = z.union([z.literal(TEMPLATE_SCOPE), tenantSchema]);
const genSchema = z.string().regex(/^[A-Za-z0-9_-]{1,32}$/);
const patternSchema = z.string().refine((text) => {
  const p = parsePattern(text);
  return typeof p !== 'string' && p.text === text;
}, 'resource must be a canonical pattern');

/** zod schema of a stored record: anything else found in storage fails the load (never skipped: a skipped deny would widen access). */
export const policyRecordSchema: z.ZodType<PolicyRecord> = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('role'),
    scope: scopeSchema,
    name: roleNameSchema,
    gen: genSchema,
    inherits: z.array(roleNameSchema).max(64),
    description: z.string().max(1000).optional(),
  }),
  z.strictObject({
    kind: z.literal('grant'),
    scope: scopeSchema,
    id: z.string().regex(/^[A-Za-z0-9_-]{22}$/),
    holder: z.union([z.strictObject({ role: roleNameSchema, gen: genSchema }), z.strictObject({ user: userIdSchema })]),
    effect: z.enum(['allow', 'deny']),
    action: actionRuleSchema,
    resource: patternSchema,
    condition: conditionSchema.optional(),
  }),
  z.strictObject({ kind: z.literal('binding'), scope: tenantSchema, user: userIdSchema, role: roleNameSchema, gen: genSchema }),
]) as z.ZodType<PolicyRecord>;

/** JSON with object keys sorted, so equal values have one text (rule ids hash it). */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object' && value !== null) {
    const entries = Object.entries(value)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

const encoder = new TextEncoder();

/** URL-safe base64 of bytes without padding. */
export function base64url(bytes: Uint8Array): string {
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A 132-bit content hash, base64url (22 characters): collisions are not a practical concern. */
export function digest(text: string): string {
  return base64url(sha256(encoder.encode(text))).slice(0, 22);
}

/** The id of a rule: a hash of its canonical body, so granting the same rule twice is idempotent. */
export function ruleId(body: RuleBody): string {
  return digest(canonicalJson({ effect: body.effect, action: body.action, resource: body.resource, condition: body.condition ?? null }));
}

/** A fresh role generation. */
export function newGeneration(): string {
  const bytes = new Uint8Array(9);
  globalThis.crypto.getRandomValues(bytes);
  return base64url(bytes);
}
