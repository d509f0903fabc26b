/**
 * `npx tsx bench/http.ts`: requests per second and p99 latency of an authenticated, authorised
 * `GET /api/tasks/:id`, side by side:
 *
 * - `hono`: the same route written directly on Hono (`@hono/node-server`): parse the bearer token,
 *   `identity.authenticate`, `tasks.get`, `access.checkPermission`, `c.json(task)`. The minimum any
 *   correct implementation does.
 * - `ours-bare`: `createHttpHandler` on node:http through `toNodeListener`, without rate limiter and
 *   cache: router, zod validation, the same checks, ETag, logging, problem handling.
 * - `ours`: the same with the rate limiter (memory GCRA store) and the response cache (memory
 *   CacheAdapter, re-authorised on every hit) — what the example server runs.
 *
 * All three share the same services on the memory backends in this process; the load generator
 * (autocannon) runs in a SEPARATE process. On a 2-core machine the generator and the server
 * compete for CPU, which depresses absolute numbers for every candidate alike; read the ratios.
 * Rounds are interleaved (hono, ours-bare, ours, repeated) and the median round is reported.
 *
 * Knobs (env): BENCH_DURATION (seconds per measurement, default 8), BENCH_CONNECTIONS (default 50),
 * BENCH_ROUNDS (default 3), BENCH_WARMUP (seconds, default 2).
 * Writes bench/results/http.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import { join } from 'node:path';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import type { AddressInfo } from 'node:net';
import { createHttpHandler } from '../src/http/index.js';
import { serveNode } from '../src/http/node/index.js';
import { createServerServices } from '../examples/server/services.js';

const DURATION = Number(process.env.BENCH_DURATION ?? 8);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 50);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2);
const require = createRequire(import.meta.url);
const AUTOCANNON = require.resolve('autocannon/autocannon.js');

interface Measurement {
  readonly rps: number;
  readonly p50: number;
  readonly p99: number;
  readonly non2xx: number;
  readonly errors: number;
}

function load(url: string, token: string, seconds: number): Promise<Measurement> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [AUTOCANNON, '-j', '-c', String(CONNECTIONS), '-d', String(seconds), '-H', `authorization=Bearer ${token}`, url], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`autocannon exited with ${code}`));
      const r = JSON.parse(out) as { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number; errors: number };
      resolve({ rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, non2xx: r.non2xx, errors: r.errors });
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const composed = await createServerServices({ secret: 'bench', worker: false, rateLimit: { limit: 1_000_000_000, periodMs: 1000 } });
  const { services } = composed;
  const ours = createHttpHandler(services, composed.handlerOptions);
  const bare = createHttpHandler({ ...services, cache: undefined, rateLimiter: undefined }, composed.handlerOptions);

  // One user with one task.
  const signup = await ours(new Request('http://bench/api/users', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@example.com', displayName: 'Bench', password: 'bench password 123' }) }));
  if (signup.status !== 201) throw new Error(`signup failed: ${signup.status}`);
  const loginRes = await ours(new Request('http://bench/api/auth/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'bench@example.com', password: 'bench password 123' }) }));
  const token = ((await loginRes.json()) as { accessToken: string }).accessToken;
  const created = await ours(new Request('http://bench/api/tasks', { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` }, body: JSON.stringify({ type: 'job', payload: { scene: 'intro', frames: 120 } }) }));
  const taskId = ((await created.json()) as { task: { taskId: string } }).task.taskId;

  // The same route, written directly on Hono.
  const app = new Hono();
  app.get('/api/tasks/:id', async (c) => {
    const header = c.req.header('authorization');
    if (!header?.startsWith('Bearer ')) return c.json({ code: 'AUTH_REQUIRED' }, 401);
    try {
      const principal = await services.identity.authenticate(header.slice(7));
      const task = await services.tasks.get(c.req.param('id'));
      const allowed = await services.access.checkPermission(principal.userId, { tenant: task.tenantId, path: `tasks/${task.id}`, ownerId: task.ownerId }, 'read');
      if (!allowed) return c.json({ code: 'ACCESS_DENIED' }, 403);
      return c.json(task);
    } catch (err) {
      const e = err as { status?: number; code?: string };
      return c.json({ code: e.code ?? 'INTERNAL' }, (e.status ?? 500) as 401);
    }
  });
  const honoServer = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' });
  await new Promise<void>((r) => honoServer.once('listening', () => r()));
  const honoUrl = `http://127.0.0.1:${(honoServer.address() as AddressInfo).port}`;
  const oursServer = await serveNode(ours);
  const bareServer = await serveNode(bare);

  const candidates = [
    { name: 'hono', url: `${honoUrl}/api/tasks/${taskId}` },
    { name: 'ours-bare', url: `${bareServer.url}/api/tasks/${taskId}` },
    { name: 'ours', url: `${oursServer.url}/api/tasks/${taskId}` },
  ];
  for (const c of candidates) {
    const res = await fetch(c.url, { headers: { authorization: `Bearer ${token}` } });
    if (res.status !== 200) throw new Error(`${c.name} answered ${res.status}`);
    await res.arrayBuffer();
  }

  console.log(`load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} (other work on the machine skews every candidate)`);
  console.log(`node ${process.version}, ${os.cpus().length} cores (${os.cpus()[0]?.model ?? '?'}), ${CONNECTIONS} connections, ${DURATION} s x ${ROUNDS} rounds, autocannon in a separate process\n`);
  const results: Record<string, Measurement[]> = Object.fromEntries(candidates.map((c) => [c.name, []]));
  for (const c of candidates) await load(c.url, token, WARMUP);
  for (let round = 0; round < ROUNDS; round++) {
    for (const c of candidates) {
      const m = await load(c.url, token, DURATION);
      results[c.name]!.push(m);
      console.log(`round ${round + 1} ${c.name.padEnd(10)} ${m.rps.toFixed(0).padStart(7)} req/s  p50 ${m.p50} ms  p99 ${m.p99} ms  non-2xx ${m.non2xx}  errors ${m.errors}`);
    }
  }
  const summary = Object.fromEntries(
    candidates.map((c) => {
      const ms = results[c.name]!;
      return [c.name, { rps: median(ms.map((m) => m.rps)), p50: median(ms.map((m) => m.p50)), p99: median(ms.map((m) => m.p99)), non2xx: ms.reduce((s, m) => s + m.non2xx, 0), rounds: ms }];
    }),
  );
  const hono = summary.hono!;
  // Paired ratios (each round against the Hono run just before it) resist load drifting between rounds.
  const paired = Object.fromEntries(candidates.map((c) => [c.name, median(results[c.name]!.map((m, i) => m.rps / results.hono![i]!.rps))]));
  console.log('\nmedian of rounds:');
  for (const c of candidates) {
    const s = summary[c.name]!;
    console.log(
      `${c.name.padEnd(10)} ${s.rps.toFixed(0).padStart(7)} req/s  p99 ${String(s.p99).padStart(3)} ms  throughput vs hono ${(s.rps / hono.rps).toFixed(2)} (median paired ${paired[c.name]!.toFixed(2)})  p99 vs hono ${(s.p99 / Math.max(hono.p99, 1)).toFixed(2)}`,
    );
  }
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(
    join(import.meta.dirname, 'results', 'http.json'),
    JSON.stringify(
      {
        subject: 'GET /api/tasks/:id, authenticated and authorised, memory backends',
        node: process.version,
        cpus: os.cpus().length,
        connections: CONNECTIONS,
        durationSeconds: DURATION,
        rounds: ROUNDS,
        loadGenerator: 'autocannon (separate process)',
        results: summary,
        loadAverage: os.loadavg(),
        ratios: Object.fromEntries(
          candidates.map((c) => [c.name, { throughputVsHono: summary[c.name]!.rps / hono.rps, medianPairedThroughputVsHono: paired[c.name], p99VsHono: summary[c.name]!.p99 / Math.max(hono.p99, 1) }]),
        ),
      },
      null,
      2,
    ),
  );
  honoServer.close();
  await Promise.all([oursServer.close(), bareServer.close()]);
  ours.close();
  bare.close();
  await composed.close();
}

await main();
process.exit(0);
