import { exportSPKI, SignJWT } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { createMemoryStorage, MemoryStorageState } from '../../../src/adapters/memory/index.js';
import { ManualClock } from '../../../src/core/clock.js';
import {
  createAccessTokenService,
  createSigningKeySet,
  type AccessTokenService,
  type SigningAlgorithm,
  type SigningKeySet,
} from '../../../src/identity/index.js';
import { encodeBase64url } from '../../../src/identity/internal/base64url.js';
import { AesKey, Keyring } from '../../../src/security/primitives.js';
import { b64json, forge, forgeHmac } from './support/forge.js';

const T0 = 1_750_000_000_000;
const ISS = 'https://auth.example';
const AUD = 'https://api.example';

async function failure(promise: Promise<unknown>): Promise<{ code?: string; reason?: string; claim?: string; message: string; cause?: unknown }> {
  try {
    await promise;
  } catch (err) {
    const e = err as { code?: string; details?: { reason?: string; claim?: string }; message: string; cause?: unknown };
    return { code: e.code, reason: e.details?.reason, claim: e.details?.claim, message: e.message, cause: e.cause };
  }
  throw new Error('expected a rejection');
}

function claimsAt(now: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { iss: ISS, aud: AUD, sub: 'u1', iat: Math.floor(now / 1000), exp: Math.floor(now / 1000) + 600, jti: 'j1', ...extra };
}

describe('access tokens: RS256 by default', () => {
  let clock: ManualClock;
  let keys: SigningKeySet;
  let tokens: AccessTokenService;
  let privateKey: CryptoKey;
  let kid: string;

  beforeAll(async () => {
    clock = new ManualClock(T0);
    keys = await createSigningKeySet({ clock, verifyForMs: 20 * 60_000 });
    tokens = createAccessTokenService({ keys, issuer: ISS, audience: AUD, clock, ttlMs: 15 * 60_000, clockToleranceMs: 5_000 });
    ({ privateKey, kid } = await keys.signer());
  });

  it('signs RS256 with kid and typ at+jwt, and verifies its own tokens', async () => {
    const issued = await tokens.issue({ subject: 'u1', sessionId: 's1', amr: ['pwd'], claims: { tier: 2 } });
    const header = JSON.parse(Buffer.from(issued.token.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
    expect(header).toEqual({ alg: 'RS256', kid, typ: 'at+jwt' });
    const { claims, alg } = await tokens.verify(issued.token);
    expect(alg).toBe('RS256');
    expect(claims).toMatchObject({ iss: ISS, aud: AUD, sub: 'u1', sid: 's1', amr: ['pwd'], tier: 2, jti: issued.jti });
    expect(claims.exp * 1000).toBe(issued.expiresAt);
  });

  it('refuses registered claims in the extra claims', async () => {
    expect((await failure(tokens.issue({ subject: 'u1', claims: { exp: 1 } }))).code).toBe('VALIDATION_FAILED');
    expect((await failure(tokens.issue({ subject: 'u1', claims: { sub: 'admin' } }))).code).toBe('VALIDATION_FAILED');
  });

  it('requires exp: a token without it is rejected even with a valid signature', async () => {
    const { exp: _exp, ...noExp } = claimsAt(clock.now());
    const token = await forge({ alg: 'RS256', kid, typ: 'at+jwt' }, noExp, privateKey, 'RS256');
    expect(await failure(tokens.verify(token))).toMatchObject({ code: 'AUTH_TOKEN_INVALID', reason: 'claims', claim: 'exp' });
  });

  it('checks iss and aud always', async () => {
    const wrongIss = await forge({ alg: 'RS256', kid, typ: 'at+jwt' }, claimsAt(clock.now(), { iss: 'https://evil.example' }), privateKey, 'RS256');
    expect(await failure(tokens.verify(wrongIss))).toMatchObject({ reason: 'claims', claim: 'iss' });
    const wrongAud = await forge({ alg: 'RS256', kid, typ: 'at+jwt' }, claimsAt(clock.now(), { aud: 'other-api' }), privateKey, 'RS256');
    expect(await failure(tokens.verify(wrongAud))).toMatchObject({ reason: 'claims', claim: 'aud' });
    const noAud = await forge({ alg: 'RS256', kid, typ: 'at+jwt' }, { ...claimsAt(clock.now()), aud: undefined }, privateKey, 'RS256');
    expect(await failure(tokens.verify(noAud))).toMatchObject({ reason: 'claims' });
  });

  it('expires with AUTH_TOKEN_EXPIRED after exp plus the tolerance, not before', async () => {
    const { token, expiresAt } = await tokens.issue({ subject: 'u1' });
    const at = new ManualClock(expiresAt + 4_000);
    const lenient = createAccessTokenService({ keys, issuer: ISS, audience: AUD, clock: at, clockToleranceMs: 5_000 });
    await expect(lenient.verify(token)).resolves.toBeDefined();
    at.advance(1_000);
    const err = await failure(lenient.verify(token));
    expect(err.code).toBe('AUTH_TOKEN_EXPIRED');
    expect(err.message).not.toContain(token.slice(0, 20));
    expect((err.cause as { code?: string }).code).toBe('ERR_JWT_EXPIRED'); // jose stays in the cause
    const strict = createAccessTokenService({ keys, issuer: ISS, audience: AUD, clock: new ManualClock(expiresAt), clockToleranceMs: 0 });
    expect((await failure(strict.verify(token))).code).toBe('AUTH_TOKEN_EXPIRED');
  });

  it('honours nbf and rejects iat in the future, within the tolerance', async () => {
    const now = Math.floor(clock.now() / 1000);
    const nbf = await forge({ alg: 'RS256', kid, typ: 'at+jwt' }, claimsAt(clock.now(), { nbf: now + 60 }), privateKey, 'RS256');
    expect(await failure(tokens.verify(nbf))).toMatchObject({ code: 'AUTH_TOKEN_INVALID', reason: 'not_yet_valid' });
    const nbfSoon = await forge({ alg: 'RS256', kid, typ: 'at+jwt' }, claimsAt(clock.now(), { nbf: now + 3 }), privateKey, 'RS256');
    await expect(tokens.verify(nbfSoon)).resolves.toBeDefined();
    const future = await forge({ alg: 'RS256', kid, typ: 'at+jwt' }, claimsAt(clock.now(), { iat: now + 60 }), privateKey, 'RS256');
    expect(await failure(tokens.verify(future))).toMatchObject({ reason: 'claims', claim: 'iat' });
  });

  it('rejects alg none in every spelling', async () => {
    for (const alg of ['none', 'None', 'NONE', 'nOnE']) {
      const token = `${b64json({ alg, kid, typ: 'at+jwt' })}.${b64json(claimsAt(clock.now()))}.`;
      expect(await failure(tokens.verify(token))).toMatchObject({ code: 'AUTH_TOKEN_INVALID', reason: 'algorithm' });
    }
  });

  it('rejects RS256→HS256 confusion: HMAC keyed with the public key PEM, JWK modulus or SPKI', async () => {
    const jwk = keys.jwks().keys.find((k) => k.kid === kid)!;
    const publicCryptoKey = await crypto.subtle.importKey('jwk', { kty: 'RSA', n: jwk.n, e: jwk.e }, { name: 'RSASSA-PKCS1-v1_5', hash: 'SHA-256' }, true, ['verify']);
    const pem = await exportSPKI(publicCryptoKey);
    const secrets = [new TextEncoder().encode(pem), new TextEncoder().encode(JSON.stringify(jwk)), Buffer.from(jwk.n!, 'base64url')];
    for (const secret of secrets) {
      const token = await forgeHmac({ alg: 'HS256', kid, typ: 'at+jwt' }, claimsAt(clock.now()), secret);
      expect(await failure(tokens.verify(token))).toMatchObject({ code: 'AUTH_TOKEN_INVALID', reason: 'algorithm' });
    }
  });

  it('rejects a token whose alg is another asymmetric algorithm than its key', async () => {
    const token = await forge({ alg: 'PS256', kid, typ: 'at+jwt' }, claimsAt(clock.now()), privateKey, 'PS256');
    expect(await failure(tokens.verify(token))).toMatchObject({ reason: 'algorithm' });
  });

  it('rejects embedded jwk, jku, x5u, x5c and any crit, even with a valid signature', async () => {
    const jwk = keys.jwks().keys[0]!;
    const headers: Record<string, unknown>[] = [
      { jwk },
      { jku: 'https://evil.example/jwks.json' },
      { x5u: 'https://evil.example/cert.pem' },
      { x5c: ['MIIB'] },
      { crit: ['exp'] },
      { crit: ['https://example.com/unknown'], 'https://example.com/unknown': true },
      { crit: [] },
      { b64: false, crit: ['b64'] },
    ];
    for (const extra of headers) {
      const token = await forge({ alg: 'RS256', kid, typ: 'at+jwt', ...extra }, claimsAt(clock.now()), privateKey, 'RS256');
      expect(await failure(tokens.verify(token)), JSON.stringify(Object.keys(extra))).toMatchObject({ code: 'AUTH_TOKEN_INVALID', reason: 'header' });
    }
  });

  it('rejects padded, space-containing and non-canonical base64url that jose alone accepts', async () => {
    const { token } = await tokens.issue({ subject: 'u1' });
    const [h, p, s] = token.split('.') as [string, string, string];
    const variants = [
      `${h}=.${p}.${s}`,
      `${h}.${p}==.${s}`,
      `${h}.${p}.${s}=`,
      `${h} .${p}.${s}`,
      `${h}.${p}. ${s}`,
      `${h}.${p}.${s}\n`,
      `${h}.${p.slice(0, 10)} ${p.slice(10)}.${s}`,
      `${h}.${p}.${s.slice(0, -1)}+`,
      `${h}.${p}.${s.replace(/_/g, '/')}`,
    ];
    for (const variant of variants) {
      if (variant === token) continue;
      expect(await failure(tokens.verify(variant)), JSON.stringify(variant.slice(-8))).toMatchObject({ code: 'AUTH_TOKEN_INVALID', reason: 'malformed' });
    }
    // Non-canonical pad bits: the last char of an RS256 signature (256 bytes → 342 chars, 4 pad bits).
    const lastValue = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.indexOf(s.at(-1)!);
    const bumped = `${h}.${p}.${s.slice(0, -1)}${'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'[lastValue | 1]}`;
    expect(await failure(tokens.verify(bumped))).toMatchObject({ reason: 'malformed' });
  });

  it('rejects wrong typ, so other JWTs of the same keys are not access tokens', async () => {
    for (const typ of [undefined, 'JWT', 'mfa-challenge+jwt']) {
      const header: Record<string, unknown> = { alg: 'RS256', kid };
      if (typ) header.typ = typ;
      const token = await forge(header, claimsAt(clock.now()), privateKey, 'RS256');
      expect(await failure(tokens.verify(token))).toMatchObject({ reason: 'type' });
    }
    const token = await forge({ alg: 'RS256', kid, typ: 'application/AT+JWT' }, claimsAt(clock.now()), privateKey, 'RS256');
    await expect(tokens.verify(token)).resolves.toBeDefined();
  });

  it('rejects unknown kids, missing kids, tampering, JSON serialisation and junk without leaking the token', async () => {
    const { token } = await tokens.issue({ subject: 'u1' });
    const [h, p, s] = token.split('.') as [string, string, string];
    const other = await forge({ alg: 'RS256', kid: 'nope', typ: 'at+jwt' }, claimsAt(clock.now()), privateKey, 'RS256');
    expect(await failure(tokens.verify(other))).toMatchObject({ reason: 'unknown_key' });
    const noKid = await forge({ alg: 'RS256', typ: 'at+jwt' }, claimsAt(clock.now()), privateKey, 'RS256');
    expect(await failure(tokens.verify(noKid))).toMatchObject({ reason: 'header' });
    const tampered = `${h}.${b64json({ ...claimsAt(clock.now()), sub: 'admin' })}.${s}`;
    expect(await failure(tokens.verify(tampered))).toMatchObject({ reason: 'signature' });
    const json = JSON.stringify({ protected: h, payload: p, signature: s });
    expect(await failure(tokens.verify(json))).toMatchObject({ reason: 'malformed' });
    for (const junk of ['', 'a.b', 'a.b.c.d', `${h}.${p}.${s}.`, 'x'.repeat(20_000), 42 as unknown as string, null as unknown as string]) {
      const err = await failure(tokens.verify(junk));
      expect(err.code).toBe('AUTH_TOKEN_INVALID');
      expect(err.message).not.toContain(s.slice(0, 16));
    }
    const truncatedSig = `${h}.${p}.${encodeBase64url(Buffer.from(s, 'base64url').subarray(0, 253))}`;
    expect(await failure(tokens.verify(truncatedSig))).toMatchObject({ reason: 'signature' });
  });
});

describe('key rotation', () => {
  it('signs with the new key, verifies old tokens until verifyUntil, then rejects them as retired', async () => {
    const clock = new ManualClock(T0);
    const keys = await createSigningKeySet({ algorithm: 'ES256', clock, verifyForMs: 20 * 60_000 });
    const tokens = createAccessTokenService({ keys, issuer: ISS, audience: AUD, clock, ttlMs: 15 * 60_000, clockToleranceMs: 0 });
    const old = await tokens.issue({ subject: 'u1' });
    clock.advance(60_000);
    const rotated = await keys.rotate();
    expect(rotated.status).toBe('active');
    const fresh = await tokens.issue({ subject: 'u1' });
    expect(fresh.kid).toBe(rotated.kid);
    expect(fresh.kid).not.toBe(old.kid);
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([rotated.kid, old.kid]);
    expect(keys.list().map((k) => k.status)).toEqual(['active', 'verifying']);
    await expect(tokens.verify(old.token)).resolves.toBeDefined();
    await expect(tokens.verify(fresh.token)).resolves.toBeDefined();
    // Past verifyUntil the old key is retired: not in the JWKS, its tokens rejected even if unexpired.
    const info = keys.list().find((k) => k.kid === old.kid)!;
    clock.set(info.verifyUntil!);
    expect(keys.jwks().keys.map((k) => k.kid)).toEqual([rotated.kid]);
    const longLived = createAccessTokenService({ keys, issuer: ISS, audience: AUD, clock, clockToleranceMs: 300_000 });
    expect(await failure(longLived.verify(old.token))).toMatchObject({ code: 'AUTH_TOKEN_INVALID', reason: 'retired_key' });
    const later = await tokens.issue({ subject: 'u1' });
    expect(later.kid).toBe(rotated.kid);
    await expect(tokens.verify(later.token)).resolves.toBeDefined();
  });

  it('publishes ahead: a pending key is in the JWKS but does not sign until it activates', async () => {
    const clock = new ManualClock(T0);
    const keys = await createSigningKeySet({ algorithm: 'EdDSA', clock });
    const tokens = createAccessTokenService({ keys, issuer: ISS, audience: AUD, clock });
    const first = keys.list()[0]!;
    const next = await keys.rotate({ publishAheadMs: 60_000 });
    expect(next.status).toBe('pending');
    expect(keys.jwks().keys.map((k) => k.kid)).toContain(next.kid);
    expect((await tokens.issue({ subject: 'u' })).kid).toBe(first.kid);
    clock.advance(60_000);
    expect((await tokens.issue({ subject: 'u' })).kid).toBe(next.kid);
    expect(keys.list().find((k) => k.kid === first.kid)!.verifyUntil).toBe(T0 + 60_000 + keys.verifyForMs);
  });

  it('rotateIfOlderThan rotates once however many processes call it', async () => {
    const clock = new ManualClock(T0);
    const state = new MemoryStorageState();
    const keyring = new Keyring({ keys: [AesKey.generate({ id: 'k1' })] });
    const open = () => createSigningKeySet({ algorithm: 'ES256', clock, storage: createMemoryStorage({ state, clock }), keyring });
    const a = await open();
    const b = await open();
    expect(b.list().map((k) => k.kid)).toEqual(a.list().map((k) => k.kid));
    clock.advance(86_400_000);
    const results = await Promise.all([a.rotateIfOlderThan(3_600_000), b.rotateIfOlderThan(3_600_000), a.rotateIfOlderThan(3_600_000)]);
    expect(results.filter((r) => r !== null)).toHaveLength(1);
    await a.refresh();
    await b.refresh();
    expect(a.list()).toHaveLength(2);
    expect(b.list()).toEqual(a.list());
  });

  it('several processes starting at once end up with one shared first key', async () => {
    const state = new MemoryStorageState();
    const keyring = new Keyring({ keys: [AesKey.generate({ id: 'k1' })] });
    const sets = await Promise.all(Array.from({ length: 4 }, () => createSigningKeySet({ algorithm: 'EdDSA', storage: createMemoryStorage({ state }), keyring })));
    for (const set of sets) await set.refresh();
    expect(new Set(sets.map((s) => JSON.stringify(s.list().map((k) => k.kid))))).toEqual(new Set([JSON.stringify(sets[0]!.list().map((k) => k.kid))]));
    expect(sets[0]!.list()).toHaveLength(1);
  });

  it('another process verifies tokens of a key it has not loaded yet (reload on unknown kid)', async () => {
    const clock = new ManualClock(T0);
    const state = new MemoryStorageState();
    const keyring = new Keyring({ keys: [AesKey.generate({ id: 'k1' })] });
    const signerKeys = await createSigningKeySet({ algorithm: 'EdDSA', clock, storage: createMemoryStorage({ state, clock }), keyring });
    const verifierKeys = await createSigningKeySet({ algorithm: 'EdDSA', clock, storage: createMemoryStorage({ state, clock }), keyring, refreshIntervalMs: 3_600_000 });
    await signerKeys.rotate();
    const signer = createAccessTokenService({ keys: signerKeys, issuer: ISS, audience: AUD, clock });
    const verifier = createAccessTokenService({ keys: verifierKeys, issuer: ISS, audience: AUD, clock });
    const { token, kid } = await signer.issue({ subject: 'u1' });
    expect(verifierKeys.list().map((k) => k.kid)).not.toContain(kid);
    await expect(verifier.verify(token)).resolves.toMatchObject({ kid });
  });

  it('stores private keys only encrypted, and a process without the keyring key cannot sign', async () => {
    const state = new MemoryStorageState();
    const storage = createMemoryStorage({ state });
    const keyring = new Keyring({ keys: [AesKey.generate({ id: 'k1' })] });
    const keys = await createSigningKeySet({ algorithm: 'ES256', storage, keyring });
    const doc = await storage.get('identity.keys', 'access-tokens');
    const raw = JSON.stringify(doc!.value);
    expect(raw).not.toMatch(/"d"\s*:/);
    const { privateKey } = await keys.signer();
    expect(privateKey.type).toBe('private');
    const stranger = await createSigningKeySet({ algorithm: 'ES256', storage: createMemoryStorage({ state }), keyring: new Keyring({ keys: [AesKey.generate({ id: 'k2' })] }) });
    expect(await failure(stranger.signer())).toMatchObject({ code: 'CRYPTO_AUTH_FAILED' });
    expect((await failure(createSigningKeySet({ storage }))).code).toBe('VALIDATION_FAILED'); // storage without keyring
  });
});

describe('every selectable algorithm', () => {
  const algorithms: SigningAlgorithm[] = ['PS256', 'ES256', 'EdDSA', 'ES384', 'RS384'];
  for (const algorithm of algorithms) {
    it(`issues and verifies ${algorithm}, and the JWKS carries alg, kid and use`, async () => {
      const keys = await createSigningKeySet({ algorithm });
      const tokens = createAccessTokenService({ keys, issuer: ISS, audience: AUD });
      const { token, kid } = await tokens.issue({ subject: 'u1' });
      await expect(tokens.verify(token)).resolves.toMatchObject({ alg: algorithm, kid });
      const [jwk] = keys.jwks().keys;
      expect(jwk).toMatchObject({ alg: algorithm, kid, use: 'sig' });
      expect(jwk).not.toHaveProperty('d');
      // A token signed by raw jose with the same key verifies too (interoperability).
      const { privateKey } = await keys.signer();
      const raw = await new SignJWT({ sub: 'u2', jti: 'j', iss: ISS, aud: AUD }).setProtectedHeader({ alg: algorithm, kid, typ: 'at+jwt' }).setIssuedAt().setExpirationTime('5m').sign(privateKey);
      await expect(tokens.verify(raw)).resolves.toMatchObject({ claims: { sub: 'u2' } });
    });
  }

  it('a 4096-bit RSA key set works the same way', async () => {
    const keys = await createSigningKeySet({ modulusLength: 4096 });
    const tokens = createAccessTokenService({ keys, issuer: ISS, audience: AUD });
    const { token } = await tokens.issue({ subject: 'u1' });
    expect(token.split('.')[2]!.length).toBe(683); // 512-byte signature
    await expect(tokens.verify(token)).resolves.toBeDefined();
  });

  it('encodes base64url canonically', () => {
    expect(encodeBase64url(new Uint8Array([0xfb, 0xff]))).toBe('-_8');
  });
});
