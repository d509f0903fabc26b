/**
 * `npx tsx bench/identity.ts`: the identity hot paths side by side with the raw libraries.
 *
 * - Access tokens, sign and verify per second, for RS256 with 2048- and 4096-bit keys and for
 *   EdDSA (Ed25519): our `AccessTokenService` against raw `jose` with the same keys and claims.
 *   Raw jose verify runs twice: bare (`algorithms` only, jose's defaults) and configured the way
 *   ours always is (issuer, audience, typ, required claims). Ours additionally runs the strict
 *   pre-checks (canonical base64url, header policy, kid lookup, signature length). Goal: our
 *   verify within 10% of raw jose (ratio ≥ 0.90).
 * - TOTP verification (±1 step) per second: our `verifyTotp` (bytes secret; and with the base32
 *   decode otplib does per call) against `otplib` 13 `verifySync` with `epochTolerance: 30`.
 *
 * Knobs: BENCH_TIME_MS (time per measurement, default 300), BENCH_ROUNDS (interleaved rounds,
 * default 7), BENCH_ONLY (comma list of tokens,totp). Throughput is per CPU-second of this
 * process (user + system, libuv's thread pool included: WebCrypto runs RSA there), with
 * wall-clock figures alongside; ratios are medians of per-round paired ratios (ours / raw),
 * which cancels slow drift on a shared machine. Writes bench/results/identity.json.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { jwtVerify, SignJWT } from 'jose';
import { verifySync } from 'otplib';
import { base32Decode, base32Encode, createAccessTokenService, createSigningKeySet, SIGNING_ALGORITHMS, totp, verifyTotp, type SigningAlgorithm } from '../src/identity/index.js';
import { inspect, pin } from '../src/identity/tokens/verify.js';

const TIME_MS = Number(process.env.BENCH_TIME_MS ?? 300);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const ONLY = new Set((process.env.BENCH_ONLY ?? 'tokens,totp').split(','));

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** Ops per CPU-second and per wall-clock second of `op`, run back to back for TIME_MS. */
async function measure(op: () => unknown): Promise<{ cpu: number; wall: number }> {
  gc();
  // Warm up for a tenth of the window (at least 20 ops), so JIT tiers and caches are settled.
  const warm = performance.now();
  for (let i = 0; i < 20 || performance.now() - warm < TIME_MS / 10; i++) await op();
  let count = 0;
  const started = performance.now();
  const cpu0 = process.cpuUsage();
  let elapsed = 0;
  do {
    await op();
    count += 1;
    elapsed = performance.now() - started;
  } while (elapsed < TIME_MS);
  const cpu = process.cpuUsage(cpu0);
  return { cpu: count / ((cpu.user + cpu.system) / 1e6), wall: count / (elapsed / 1000) };
}

interface Comparison {
  readonly cpu: Record<string, number>;
  readonly wall: Record<string, number>;
  readonly rounds: Record<string, number[]>;
}

/**
 * Every candidate once per round, ROUNDS rounds; keeps the best and every round's figure. The
 * order rotates from round to round, so no candidate always runs first (or right after another).
 */
async function compare(candidates: Record<string, () => unknown>): Promise<Comparison> {
  const cpu: Record<string, number> = {};
  const wall: Record<string, number> = {};
  const rounds: Record<string, number[]> = {};
  const entries = Object.entries(candidates);
  for (let round = 0; round < ROUNDS; round++) {
    const order = entries.map((_, i) => entries[(i + round) % entries.length]!);
    for (const [name, op] of order) {
      const m = await measure(op);
      cpu[name] = Math.max(cpu[name] ?? 0, m.cpu);
      wall[name] = Math.max(wall[name] ?? 0, m.wall);
      (rounds[name] ??= []).push(m.cpu);
    }
  }
  return { cpu, wall, rounds };
}

/** Median of per-round ours/baseline ratios, and the ratio of bests. */
function ratio(c: Comparison, ours: string, baseline: string): { median: number; ofBests: number } {
  const r = c.rounds[ours]!.map((v, i) => v / c.rounds[baseline]![i]!).sort((a, b) => a - b);
  const median = r.length % 2 ? r[(r.length - 1) / 2]! : (r[r.length / 2 - 1]! + r[r.length / 2]!) / 2;
  return { median, ofBests: c.cpu[ours]! / c.cpu[baseline]! };
}

const fmt = (n: number, digits = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });
const fr = (x: { median: number; ofBests: number }): string => `${fmt(x.median, 2)}x (bests ${fmt(x.ofBests, 2)}x)`;

function print(title: string, c: Comparison): void {
  console.log(`  ${title}`);
  for (const name of Object.keys(c.rounds)) console.log(`    ${name.padEnd(44)}${fmt(c.cpu[name]!).padStart(10)} ops/s${`(wall ${fmt(c.wall[name]!)})`.padStart(18)}`);
}

const ISS = 'https://auth.example.com';
const AUD = 'https://api.example.com';

interface TokenRow {
  readonly config: string;
  /** CPU time of the strict pre-checks alone (parse, header policy, kid lookup, pinning), µs per token. */
  readonly precheckMicroseconds: number;
  readonly sign: Comparison & { readonly ratio: { median: number; ofBests: number } };
  readonly verify: Comparison & { readonly ratioVsBare: { median: number; ofBests: number }; readonly ratioVsConfigured: { median: number; ofBests: number } };
}

async function benchTokens(): Promise<TokenRow[]> {
  const configs: { name: string; algorithm: SigningAlgorithm; modulusLength?: 2048 | 4096 }[] = [
    { name: 'RS256 / RSA-2048', algorithm: 'RS256', modulusLength: 2048 },
    { name: 'RS256 / RSA-4096', algorithm: 'RS256', modulusLength: 4096 },
    { name: 'EdDSA / Ed25519', algorithm: 'EdDSA' },
  ];
  const rows: TokenRow[] = [];
  console.log(`\nAccess tokens: best of ${ROUNDS} interleaved rounds of ${TIME_MS} ms, ops per CPU-second`);
  for (const config of configs) {
    const keys = await createSigningKeySet({ algorithm: config.algorithm, ...(config.modulusLength ? { modulusLength: config.modulusLength } : {}) });
    const tokens = createAccessTokenService({ keys, issuer: ISS, audience: AUD });
    // The same keys for both sides: the signer's private key and the verifier's public key.
    const { kid, alg, privateKey } = await keys.signer();
    const publicKey = (await keys.verificationKey(kid)).material;
    const claims = { sid: 'session-1', amr: ['pwd'] };
    const rawSign = (): Promise<string> => {
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ ...claims, iss: ISS, sub: 'user-1', aud: AUD, iat: now, exp: now + 900, jti: crypto.randomUUID() })
        .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
        .sign(privateKey);
    };
    const sign = await compare({
      'ours: AccessTokenService.issue': () => tokens.issue({ subject: 'user-1', sessionId: 'session-1', amr: ['pwd'] }),
      'raw jose: SignJWT.sign': rawSign,
    });
    const token = (await tokens.issue({ subject: 'user-1', sessionId: 'session-1', amr: ['pwd'] })).token;
    const verify = await compare({
      'ours: AccessTokenService.verify (strict)': () => tokens.verify(token),
      'raw jose: jwtVerify (bare)': () => jwtVerify(token, publicKey, { algorithms: [alg] }),
      'raw jose: jwtVerify (iss, aud, typ, required)': () =>
        jwtVerify(token, publicKey, { algorithms: [alg], issuer: ISS, audience: AUD, typ: 'at+jwt', clockTolerance: 5, requiredClaims: ['iss', 'aud', 'exp', 'iat', 'jti', 'sub'] }),
    });
    // What the strict layer costs by itself: parse, header policy, kid lookup, pinning (no crypto).
    const verificationKey = await keys.verificationKey(kid);
    const precheck = await measure(() => {
      const parsed = inspect(token, { algorithms: SIGNING_ALGORITHMS, typ: 'at+jwt', requireKid: true });
      pin(parsed, keys.cachedVerificationKey(parsed.kid) ?? verificationKey);
    });
    const row: TokenRow = {
      config: config.name,
      precheckMicroseconds: 1e6 / precheck.cpu,
      sign: { ...sign, ratio: ratio(sign, 'ours: AccessTokenService.issue', 'raw jose: SignJWT.sign') },
      verify: {
        ...verify,
        ratioVsBare: ratio(verify, 'ours: AccessTokenService.verify (strict)', 'raw jose: jwtVerify (bare)'),
        ratioVsConfigured: ratio(verify, 'ours: AccessTokenService.verify (strict)', 'raw jose: jwtVerify (iss, aud, typ, required)'),
      },
    };
    rows.push(row);
    console.log(`\n${config.name}`);
    print('sign', sign);
    console.log(`    ours / raw jose = ${fr(row.sign.ratio)}`);
    print('verify', verify);
    console.log(`    ours / raw jose bare = ${fr(row.verify.ratioVsBare)}; ours / raw jose configured = ${fr(row.verify.ratioVsConfigured)}  (goal ≥ 0.90)`);
    console.log(`    strict pre-checks alone: ${fmt(row.precheckMicroseconds, 2)} µs per token (CPU)`);
  }
  return rows;
}

interface TotpRow {
  readonly comparison: Comparison;
  readonly ratioBytes: { median: number; ofBests: number };
  readonly ratioWithDecode: { median: number; ofBests: number };
}

async function benchTotp(): Promise<TotpRow> {
  console.log(`\nTOTP verify (SHA-1, 6 digits, ±1 step), best of ${ROUNDS} rounds of ${TIME_MS} ms, ops per CPU-second`);
  const secret = crypto.getRandomValues(new Uint8Array(20));
  const base32 = base32Encode(secret);
  const now = Date.now();
  // The previous step's code: the verifier has to try the window, not just the current step.
  const code = totp(secret, now - 30_000);
  if (verifyTotp(secret, code, now) === null) throw new Error('bench setup: our verifier rejects the code');
  if (!verifySync({ secret: base32, token: code, epochTolerance: 30, epoch: Math.floor(now / 1000) }).valid) throw new Error('bench setup: otplib rejects the code');
  const comparison = await compare({
    'ours: verifyTotp (secret bytes)': () => verifyTotp(secret, code, now),
    'ours: verifyTotp (base32 decoded per call)': () => verifyTotp(base32Decode(base32)!, code, now),
    'otplib 13: verifySync (base32 secret)': () => verifySync({ secret: base32, token: code, epochTolerance: 30, epoch: Math.floor(now / 1000) }),
  });
  const row: TotpRow = {
    comparison,
    ratioBytes: ratio(comparison, 'ours: verifyTotp (secret bytes)', 'otplib 13: verifySync (base32 secret)'),
    ratioWithDecode: ratio(comparison, 'ours: verifyTotp (base32 decoded per call)', 'otplib 13: verifySync (base32 secret)'),
  };
  print('verify', comparison);
  console.log(`    ours / otplib = ${fr(row.ratioBytes)}; with base32 decode per call = ${fr(row.ratioWithDecode)}`);
  return row;
}

const started = Date.now();
console.log(`identity bench — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}; BENCH_TIME_MS=${TIME_MS} BENCH_ROUNDS=${ROUNDS}`);
const results: Record<string, unknown> = {
  node: process.version,
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  timeMs: TIME_MS,
  rounds: ROUNDS,
  startedAt: new Date(started).toISOString(),
};
if (ONLY.has('tokens')) results.tokens = await benchTokens();
if (ONLY.has('totp')) results.totp = await benchTotp();
results.durationMs = Date.now() - started;
const dir = join(import.meta.dirname, 'results');
mkdirSync(dir, { recursive: true });
writeFileSync(join(dir, 'identity.json'), `${JSON.stringify(results, null, 2)}\n`);
console.log(`\nwrote bench/results/identity.json in ${fmt((Date.now() - started) / 1000, 1)} s`);
