/**
 * `npx tsx bench/access.ts`: access checks side by side — our compiled RBAC, node-casbin (RBAC
 * with domains + keyMatch2) and CASL — on the same generated policy, plus the time to load and
 * compile the policy from storage.
 *
 * Policy: role templates in a 4-level inheritance hierarchy (each role below the top inherits 1–2
 * roles of the next level), users bound to 1–2 roles in tenant `acme`, a few direct user grants,
 * ~5% deny rules. Two shapes:
 * - `hierarchy`: instances (`tasks/<n>`), `projects/<p>/tasks/*`, `projects/<p>/**`, types —
 *   ours vs casbin (CASL cannot express path wildcards);
 * - `flat`: instances and types only — ours vs casbin vs CASL (CASL has no role hierarchy, so each
 *   user's rules are flattened into one ability, which is CASL's documented workaround).
 * Queries: half aimed at rules the user holds (mostly allowed), half random (mostly denied); every
 * engine answers the same list, and the decisions are compared (agreement is printed).
 *
 * Engines: `ours` is the check as a host calls it, with the resource given as plain data and
 * validated on every call; `ours-parsed` passes resources validated once with `parseResource()`
 * (the counterpart of CASL's prebuilt `subject()` objects, which CASL never validates).
 *
 * Knobs (env): BENCH_SHAPES (default `hierarchy,flat`), BENCH_SIZES (grants, default `1000,10000,100000`),
 * BENCH_ROLES (default `100,10000`),
 * BENCH_BUDGET_MS (time per engine measurement, default 400), BENCH_CASBIN_BUDGET_MS (default 3000:
 * one casbin check takes milliseconds at 10k rules and more at 100k, so casbin runs as many checks as
 * fit — the count is printed), BENCH_LOAD (`0` skips the load test), BENCH_LOAD_GRANTS (default 100000),
 * BENCH_LOAD_BACKENDS (default `memory,redis,postgres`; servers from REDIS_URL / DATABASE_URL or
 * throwaway ones from the installed binaries).
 *
 * Writes bench/results/access.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import os from 'node:os';
import v8 from 'node:v8';
import vm from 'node:vm';
import { newEnforcer, newModelFromString, StringAdapter, type Enforcer } from 'casbin';
import { createMongoAbility, subject as caslSubject, type MongoAbility } from '@casl/ability';
import pg from 'pg';
import { Redis } from 'ioredis';
import { AccessPolicy, createAccessControl, parseResource, type AccessControl, type ParsedResource } from '../src/security/access/index.js';
import type { StorageAdapter } from '../src/adapters/storage.js';
import { createMemoryPubSub, createMemoryStorage } from '../src/adapters/memory/index.js';
import { PolicyRuntime } from '../src/security/access/runtime.js';
import { planBind, planDefineRole, planGrant } from '../src/security/access/model/planner.js';
import { grantInputSchema, roleDefinitionSchema } from '../src/security/access/model/inputs.js';
import { newGeneration, type PolicyRecord } from '../src/security/access/model/records.js';
import { recordKey, REVISION_KEY, scopeRevisionKey } from '../src/security/access/service/layout.js';
import { mulberry32 } from '../src/adapters/testing/random.js';

const SIZES = (process.env.BENCH_SIZES ?? '1000,10000,100000').split(',').map(Number);
const ROLE_COUNTS = (process.env.BENCH_ROLES ?? '100,10000').split(',').map(Number);
const SHAPES = (process.env.BENCH_SHAPES ?? 'hierarchy,flat').split(',') as Shape[];
const BUDGET_MS = Number(process.env.BENCH_BUDGET_MS ?? 400);
const CASBIN_BUDGET_MS = Number(process.env.BENCH_CASBIN_BUDGET_MS ?? 3000);
const LOAD = process.env.BENCH_LOAD !== '0';
const LOAD_GRANTS = Number(process.env.BENCH_LOAD_GRANTS ?? 100_000);
const LOAD_BACKENDS = (process.env.BENCH_LOAD_BACKENDS ?? 'memory,redis,postgres').split(',');
const USERS = 1000;
const QUERIES = 4000;
const TENANT = 'acme';

v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
function heapMb(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed / 2 ** 20;
}

// ---- policy generation -----------------------------------------------------------------

type Shape = 'hierarchy' | 'flat';
interface Rule {
  holder: { role: string } | { user: string };
  effect: 'allow' | 'deny';
  action: string;
  resource: string;
}
interface Policy {
  roles: { name: string; inherits: string[] }[];
  rules: Rule[];
  bindings: { user: string; role: string }[];
}
interface Query {
  user: string;
  path: string;
  action: string;
  resource: { tenant: string; path: string };
  parsed: ParsedResource;
  caslSubject: object;
}

const ACTIONS = ['read', 'read', 'read', 'update', 'delete', 'tasks:assign'];
const LEVELS = 4;

function generate(grants: number, roleCount: number, shape: Shape, seed: number): Policy {
  const rand = mulberry32(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const levelOf = (i: number) => Math.floor((i * LEVELS) / roleCount);
  const levelStart = (l: number) => Math.ceil((l * roleCount) / LEVELS);
  const roles = Array.from({ length: roleCount }, (_, i) => {
    const level = levelOf(i);
    const inherits = new Set<string>();
    if (level < LEVELS - 1) {
      const from = levelStart(level + 1);
      const to = levelStart(level + 2);
      const n = 1 + int(2);
      for (let k = 0; k < n; k++) inherits.add(`r${from + int(Math.max(1, to - from))}`);
    }
    return { name: `r${i}`, inherits: [...inherits] };
  });
  const projects = Math.max(10, Math.floor(grants / 10));
  const rules: Rule[] = [];
  for (let i = 0; i < grants; i++) {
    const holder = rand() < 0.02 ? { user: `u${int(USERS)}` } : { role: `r${int(roleCount)}` };
    const deny = rand() < 0.05;
    const x = rand();
    let resource: string;
    if (shape === 'flat') {
      resource = deny || x < 0.85 ? `tasks/${int(grants)}` : x < 0.95 ? `projects/${int(projects)}` : pick(['reports', 'docs']);
    } else if (deny) {
      resource = rand() < 0.5 ? `tasks/${int(grants)}` : `projects/${int(projects)}/tasks/${int(grants)}`;
    } else {
      resource = x < 0.6 ? `tasks/${int(grants)}` : x < 0.75 ? `projects/${int(projects)}/tasks/*` : x < 0.95 ? `projects/${int(projects)}/**` : pick(['reports', 'docs']);
    }
    rules.push({ holder, effect: deny ? 'deny' : 'allow', action: pick(ACTIONS), resource });
  }
  const bindings: { user: string; role: string }[] = [];
  for (let u = 0; u < USERS; u++) {
    const n = 1 + int(2);
    const bound = new Set<string>();
    for (let k = 0; k < n; k++) bound.add(`r${int(roleCount)}`);
    for (const role of bound) bindings.push({ user: `u${u}`, role });
  }
  return { roles, rules, bindings };
}

function toCaslSubject(path: string): object {
  const [type, id] = path.split('/');
  return caslSubject(type!, { id });
}

/** Half the queries hit rules the user holds (through its closure), half are random. */
function makeQueries(policy: Policy, grants: number, shape: Shape, users: readonly string[], seed: number): Query[] {
  const rand = mulberry32(seed);
  const int = (n: number) => Math.floor(rand() * n);
  const parents = new Map(policy.roles.map((r) => [r.name, r.inherits]));
  const rulesOf = new Map<string, Rule[]>();
  for (const rule of policy.rules) {
    const key = 'role' in rule.holder ? rule.holder.role : `user:${rule.holder.user}`;
    let list = rulesOf.get(key);
    if (!list) rulesOf.set(key, (list = []));
    list.push(rule);
  }
  const boundOf = new Map<string, string[]>();
  for (const b of policy.bindings) boundOf.set(b.user, [...(boundOf.get(b.user) ?? []), b.role]);
  const closure = (roles: readonly string[]): string[] => {
    const seen = new Set<string>();
    const stack = [...roles];
    while (stack.length > 0) {
      const r = stack.pop()!;
      if (seen.has(r)) continue;
      seen.add(r);
      stack.push(...(parents.get(r) ?? []));
    }
    return [...seen];
  };
  const concrete = (pattern: string): string => {
    const segments = pattern.split('/');
    if (segments.length === 1) return `${pattern}/${int(grants)}`;
    return segments.map((s) => (s === '*' ? String(int(grants)) : s === '**' ? `tasks/${int(grants)}` : s)).join('/');
  };
  const randomPath = (): string => {
    const x = rand();
    const projects = Math.max(10, Math.floor(grants / 10));
    if (shape === 'flat') return x < 0.8 ? `tasks/${int(grants)}` : x < 0.95 ? `projects/${int(projects)}` : `reports/${int(grants)}`;
    return x < 0.6 ? `tasks/${int(grants)}` : x < 0.95 ? `projects/${int(projects)}/tasks/${int(grants)}` : `reports/${int(grants)}`;
  };
  const out: Query[] = [];
  for (let i = 0; i < QUERIES; i++) {
    const user = users[int(users.length)]!;
    let path = randomPath();
    let action = ACTIONS[int(ACTIONS.length)]!;
    if (i % 2 === 0) {
      const held = [...closure(boundOf.get(user) ?? []).flatMap((r) => rulesOf.get(r) ?? []), ...(rulesOf.get(`user:${user}`) ?? [])];
      if (held.length > 0) {
        const rule = held[int(held.length)]!;
        path = concrete(rule.resource);
        action = rule.action;
      }
    }
    out.push({ user, path, action, resource: { tenant: TENANT, path }, parsed: parseResource({ tenant: TENANT, path }), caslSubject: toCaslSubject(path) });
  }
  return out;
}

// ---- engines -------------------------------------------------------------------------------

function buildOurs(policy: Policy): AccessPolicy {
  const p = new AccessPolicy();
  for (const role of policy.roles.slice().reverse()) p.defineRole({ name: role.name, inherits: role.inherits });
  for (const rule of policy.rules) {
    if ('role' in rule.holder) p.grant({ role: rule.holder.role, effect: rule.effect, action: rule.action, resource: rule.resource });
    else p.grant({ tenant: TENANT, user: rule.holder.user, effect: rule.effect, action: rule.action, resource: rule.resource });
  }
  for (const b of policy.bindings) p.bindUser({ tenant: TENANT, user: b.user, role: b.role });
  return p;
}

/** The same policy as records (what the service stores), built through the same planner. */
function buildRecords(policy: Policy): PolicyRecord[] {
  const runtime = new PolicyRuntime();
  for (const role of policy.roles.slice().reverse()) runtime.apply(planDefineRole(runtime.state, roleDefinitionSchema.parse({ name: role.name, inherits: role.inherits }), newGeneration));
  for (const rule of policy.rules) {
    const holder = 'role' in rule.holder ? { role: rule.holder.role } : { tenant: TENANT, user: rule.holder.user };
    runtime.apply(planGrant(runtime.state, grantInputSchema.parse({ ...holder, effect: rule.effect, action: rule.action, resource: rule.resource })));
  }
  for (const b of policy.bindings) runtime.apply(planBind(runtime.state, { tenant: TENANT, user: b.user, role: b.role }));
  const out: PolicyRecord[] = [];
  for (const scope of ['~templates', TENANT]) out.push(...(runtime.state.get(scope)?.records() ?? []));
  return out;
}

export const CASBIN_MODEL = `
[request_definition]
r = sub, dom, obj, act

[policy_definition]
p = sub, dom, obj, act, eft

[role_definition]
g = _, _, _

[policy_effect]
e = some(where (p.eft == allow)) && !some(where (p.eft == deny))

[matchers]
m = g(r.sub, p.sub, r.dom) && r.dom == p.dom && keyMatch2(r.obj, p.obj) && (r.act == p.act || p.act == "*")
`;

/** Our pattern as a keyMatch2 pattern: `*` one segment → `:id`; `**` → `*`; a bare type → `type/*`. */
function toKeyMatch2(pattern: string): string {
  const segments = pattern.split('/');
  if (segments.length === 1) return `${pattern}/*`;
  return segments.map((s) => (s === '*' ? ':id' : s === '**' ? '*' : s)).join('/');
}

async function buildCasbin(policy: Policy): Promise<Enforcer> {
  const lines: string[] = [];
  for (const rule of policy.rules) {
    const sub = 'role' in rule.holder ? rule.holder.role : rule.holder.user;
    lines.push(`p, ${sub}, ${TENANT}, ${toKeyMatch2(rule.resource)}, ${rule.action}, ${rule.effect}`);
  }
  for (const role of policy.roles) for (const parent of role.inherits) lines.push(`g, ${role.name}, ${parent}, ${TENANT}`);
  for (const b of policy.bindings) lines.push(`g, ${b.user}, ${b.role}, ${TENANT}`);
  return newEnforcer(newModelFromString(CASBIN_MODEL), new StringAdapter(lines.join('\n')));
}

/** CASL has no role hierarchy: each user's closure is flattened into one ability; denies go last so they win. */
function buildCasl(policy: Policy, users: readonly string[]): Map<string, MongoAbility> {
  const parents = new Map(policy.roles.map((r) => [r.name, r.inherits]));
  const rulesOf = new Map<string, Rule[]>();
  for (const rule of policy.rules) {
    const key = 'role' in rule.holder ? rule.holder.role : `user:${rule.holder.user}`;
    let list = rulesOf.get(key);
    if (!list) rulesOf.set(key, (list = []));
    list.push(rule);
  }
  const boundOf = new Map<string, string[]>();
  for (const b of policy.bindings) boundOf.set(b.user, [...(boundOf.get(b.user) ?? []), b.role]);
  const abilities = new Map<string, MongoAbility>();
  for (const user of users) {
    const seen = new Set<string>();
    const stack = [...(boundOf.get(user) ?? [])];
    while (stack.length > 0) {
      const r = stack.pop()!;
      if (seen.has(r)) continue;
      seen.add(r);
      stack.push(...(parents.get(r) ?? []));
    }
    const held = [...[...seen].flatMap((r) => rulesOf.get(r) ?? []), ...(rulesOf.get(`user:${user}`) ?? [])];
    const toRaw = (rule: Rule) => {
      const [type, id] = rule.resource.split('/');
      return { action: rule.action, subject: type!, ...(id === undefined ? {} : { conditions: { id } }), inverted: rule.effect === 'deny' };
    };
    abilities.set(user, createMongoAbility([...held.filter((r) => r.effect === 'allow').map(toRaw), ...held.filter((r) => r.effect === 'deny').map(toRaw)]));
  }
  return abilities;
}

// ---- measurement -------------------------------------------------------------------------

interface Measured {
  nsPerCheck: number;
  checksPerSec: number;
  checks: number;
  decisions: boolean[];
}

/**
 * Phase 1 answers the queries in order (warm-up, and the decisions compared across engines) until
 * half the budget is spent; phase 2 times repeated passes over those queries for the other half.
 * A slow engine (casbin) may not finish phase 1: its rate is then phase 1's, over fewer queries.
 */
function measure(queries: readonly Query[], check: (q: Query) => boolean, budgetMs = BUDGET_MS): Measured {
  const decisions: boolean[] = [];
  let started = performance.now();
  let elapsed = 0;
  while (decisions.length < queries.length && elapsed < budgetMs / 2) {
    decisions.push(check(queries[decisions.length]!));
    if ((decisions.length & 15) === 0 || decisions.length < 16) elapsed = performance.now() - started;
  }
  elapsed = performance.now() - started;
  if (decisions.length < queries.length) {
    const nsPerCheck = (elapsed * 1e6) / decisions.length;
    return { nsPerCheck, checksPerSec: 1e9 / nsPerCheck, checks: decisions.length, decisions };
  }
  let checks = 0;
  let sink = 0;
  started = performance.now();
  elapsed = 0;
  while (elapsed < budgetMs / 2) {
    for (let i = 0; i < queries.length; i++) if (check(queries[i]!)) sink++;
    checks += queries.length;
    elapsed = performance.now() - started;
  }
  if (sink < 0) console.log(sink);
  const nsPerCheck = (elapsed * 1e6) / checks;
  return { nsPerCheck, checksPerSec: 1e9 / nsPerCheck, checks, decisions };
}

function agreement(a: readonly boolean[], b: readonly boolean[]): number {
  const n = Math.min(a.length, b.length);
  let same = 0;
  for (let i = 0; i < n; i++) if (a[i] === b[i]) same++;
  return n === 0 ? 1 : same / n;
}

const fmtNs = (ns: number) => (ns >= 1e6 ? `${(ns / 1e6).toFixed(2)} ms` : ns >= 1e3 ? `${(ns / 1e3).toFixed(2)} µs` : `${ns.toFixed(0)} ns`);
const fmtRate = (r: number) => (r >= 1e6 ? `${(r / 1e6).toFixed(2)}M/s` : r >= 1e3 ? `${(r / 1e3).toFixed(1)}k/s` : `${r.toFixed(0)}/s`);

interface ScenarioResult {
  shape: Shape;
  grants: number;
  roles: number;
  allowedShare: number;
  engines: Record<string, { nsPerCheck: number; checksPerSec: number; checks: number; buildMs: number; heapMb: number; agreement?: number }>;
  ratios: Record<string, number>;
}

async function scenario(shape: Shape, grants: number, roles: number): Promise<ScenarioResult> {
  const policy = generate(grants, roles, shape, grants * 31 + roles);
  const users = Array.from({ length: shape === 'flat' && grants >= 100_000 ? 50 : 200 }, (_, i) => `u${(i * 7) % USERS}`);
  const queries = makeQueries(policy, grants, shape, users, grants + roles);
  const engines: ScenarioResult['engines'] = {};

  let base = heapMb();
  let t = performance.now();
  const ours = buildOurs(policy);
  ours.can(queries[0]!.user, queries[0]!.resource, queries[0]!.action); // compile
  let buildMs = performance.now() - t;
  let heap = heapMb() - base;
  const o = measure(queries, (q) => ours.can(q.user, q.resource, q.action));
  engines.ours = { nsPerCheck: o.nsPerCheck, checksPerSec: o.checksPerSec, checks: o.checks, buildMs, heapMb: heap };
  const allowedShare = o.decisions.filter(Boolean).length / o.decisions.length;
  const op = measure(queries, (q) => ours.can(q.user, q.parsed, q.action));
  engines['ours-parsed'] = { nsPerCheck: op.nsPerCheck, checksPerSec: op.checksPerSec, checks: op.checks, buildMs, heapMb: heap, agreement: agreement(o.decisions, op.decisions) };

  base = heapMb();
  t = performance.now();
  const casbin = await buildCasbin(policy);
  buildMs = performance.now() - t;
  heap = heapMb() - base;
  const c = measure(queries, (q) => casbin.enforceSync(q.user, TENANT, q.path, q.action), CASBIN_BUDGET_MS);
  engines.casbin = { nsPerCheck: c.nsPerCheck, checksPerSec: c.checksPerSec, checks: c.checks, buildMs, heapMb: heap, agreement: agreement(o.decisions, c.decisions) };

  if (shape === 'flat') {
    base = heapMb();
    t = performance.now();
    const abilities = buildCasl(policy, users);
    buildMs = performance.now() - t;
    heap = heapMb() - base;
    const k = measure(queries, (q) => abilities.get(q.user)!.can(q.action, q.caslSubject as never));
    engines.casl = { nsPerCheck: k.nsPerCheck, checksPerSec: k.checksPerSec, checks: k.checks, buildMs, heapMb: heap, agreement: agreement(o.decisions, k.decisions) };
  }
  // speedup = their ns per check / ours: > 1 means ours is faster.
  const ratios: Record<string, number> = { ours_vs_casbin: engines.casbin!.nsPerCheck / engines.ours!.nsPerCheck };
  if (engines.casl) {
    ratios.ours_vs_casl = engines.casl.nsPerCheck / engines.ours!.nsPerCheck;
    ratios.ours_parsed_vs_casl = engines.casl.nsPerCheck / engines['ours-parsed']!.nsPerCheck;
  }
  return { shape, grants, roles, allowedShare, engines, ratios };
}

// ---- load from storage --------------------------------------------------------------------

interface LoadResult {
  backend: string;
  grants: number;
  records: number;
  writeMs: number;
  loadAndCompileMs: number;
  heapMb: number;
  serviceNsPerCheck: number;
  adminWritesPerSec: number;
}

async function writeRecords(storage: StorageAdapter, records: readonly PolicyRecord[], concurrency: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < records.length) {
        const r = records[next++]!;
        await storage.put('rbac', recordKey(r), r as never);
      }
    }),
  );
  await storage.put('rbac', scopeRevisionKey('~templates'), { revision: 1 });
  await storage.put('rbac', scopeRevisionKey(TENANT), { revision: 1 });
  await storage.put('rbac', REVISION_KEY, { revision: 1 });
}

async function loadBench(backend: string, storage: StorageAdapter, records: readonly PolicyRecord[], queries: readonly Query[], concurrency: number): Promise<LoadResult> {
  await storage.init();
  let t = performance.now();
  await writeRecords(storage, records, concurrency);
  const writeMs = performance.now() - t;
  const base = heapMb();
  t = performance.now();
  const service: AccessControl = await createAccessControl({ storage, pubsub: createMemoryPubSub(), pollIntervalMs: 0 });
  const loadAndCompileMs = performance.now() - t;
  const heap = heapMb() - base;
  const m = measure(queries, (q) => service.can(q.user, q.resource, q.action));
  // Administration throughput: sequential grants through the service (each one revision-guarded txn).
  const writes = backend === 'memory' ? 2000 : 300;
  t = performance.now();
  for (let i = 0; i < writes; i++) await service.grant({ tenant: TENANT, user: `bench-${i}`, action: 'read', resource: `tasks/${i}` });
  const adminWritesPerSec = writes / ((performance.now() - t) / 1000);
  await service.close();
  return { backend, grants: LOAD_GRANTS, records: records.length, writeMs, loadAndCompileMs, heapMb: heap, serviceNsPerCheck: m.nsPerCheck, adminWritesPerSec };
}

async function loadBenches(): Promise<LoadResult[]> {
  const policy = generate(LOAD_GRANTS, 10_000, 'hierarchy', 7);
  const records = buildRecords(policy);
  const users = Array.from({ length: 200 }, (_, i) => `u${i}`);
  const queries = makeQueries(policy, LOAD_GRANTS, 'hierarchy', users, 11);
  const results: LoadResult[] = [];
  const report = (r: LoadResult) => {
    results.push(r);
    console.log(
      `${r.backend.padEnd(9)} ${r.records} records (${r.grants} grants): write ${(r.writeMs / 1000).toFixed(1)} s, load+compile ${r.loadAndCompileMs.toFixed(0)} ms, heap +${r.heapMb.toFixed(0)} MB, service can() ${fmtNs(r.serviceNsPerCheck)}, admin writes ${r.adminWritesPerSec.toFixed(0)}/s (sequential)`,
    );
  };
  if (LOAD_BACKENDS.includes('memory')) report(await loadBench('memory', createMemoryStorage({ sweepIntervalMs: 0 }), records, queries, 1));
  if (LOAD_BACKENDS.includes('redis')) {
    try {
      const { startRedis } = await import('../test/support/redis-server.js');
      const server = process.env.REDIS_URL ? { url: process.env.REDIS_URL, stop: async () => undefined } : await startRedis();
      const client = new Redis(server.url);
      const { createRedisStorage } = await import('../src/adapters/redis/index.js');
      const prefix = `bench-access-${Date.now().toString(36)}`;
      try {
        report(await loadBench('redis', createRedisStorage({ client, prefix }), records, queries, 64));
      } finally {
        await client.quit();
        await server.stop();
      }
    } catch (err) {
      console.log(`redis     skipped: ${(err as Error).message}`);
    }
  }
  if (LOAD_BACKENDS.includes('postgres')) {
    try {
      const { startPostgres } = await import('../test/support/postgres-server.js');
      const server = process.env.DATABASE_URL ? { url: process.env.DATABASE_URL, stop: async () => undefined } : await startPostgres();
      const pool = new pg.Pool({ connectionString: server.url, max: 16 });
      pool.on('error', () => undefined); // idle connections are cut when the throwaway server stops
      const { createPostgresStorage, migratePostgres } = await import('../src/adapters/postgres/index.js');
      const schema = `bench_access_${Date.now().toString(36)}`;
      try {
        await migratePostgres({ pool, schema });
        report(await loadBench('postgres', createPostgresStorage({ pool, schema }), records, queries, 16));
      } finally {
        await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`).catch(() => undefined);
        await pool.end();
        await server.stop();
      }
    } catch (err) {
      console.log(`postgres  skipped: ${(err as Error).message}`);
    }
  }
  return results;
}

// ---- main ------------------------------------------------------------------------------

async function main(): Promise<void> {
  console.log(`access bench — node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} x${os.cpus().length}, load average ${os.loadavg()[0]!.toFixed(1)}; budget ${BUDGET_MS} ms per engine (casbin ${CASBIN_BUDGET_MS} ms)`);
  const scenarios: ScenarioResult[] = [];
  for (const shape of SHAPES) {
    for (const grants of SIZES) {
      for (const roles of ROLE_COUNTS) {
        const r = await scenario(shape, grants, roles);
        scenarios.push(r);
        const cells = Object.entries(r.engines).map(
          ([name, e]) =>
            `${name} ${fmtNs(e.nsPerCheck)} (${fmtRate(e.checksPerSec)}, ${e.checks} checks, build ${e.buildMs.toFixed(0)} ms, heap +${e.heapMb.toFixed(1)} MB${e.agreement === undefined ? '' : `, agrees ${(e.agreement * 100).toFixed(1)}%`})`,
        );
        const ratios = Object.entries(r.ratios).map(([k, v]) => `${k.replace(/_/g, ' ')} ${v.toFixed(v >= 100 ? 0 : 2)}x`);
        console.log(`${shape.padEnd(9)} ${String(grants).padStart(6)} grants ${String(roles).padStart(5)} roles (${(r.allowedShare * 100).toFixed(0)}% allowed)\n  ${cells.join('\n  ')}\n  speedup (their time / ours): ${ratios.join(', ')}`);
      }
    }
  }
  const load = LOAD ? await loadBenches() : [];
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  const out = join(import.meta.dirname, 'results', 'access.json');
  writeFileSync(out, JSON.stringify({ node: process.version, cpu: os.cpus()[0]?.model, loadAverage: os.loadavg()[0], budgetMs: BUDGET_MS, casbinBudgetMs: CASBIN_BUDGET_MS, scenarios, load }, null, 2));
  console.log(`wrote ${out}`);
}

await main();
