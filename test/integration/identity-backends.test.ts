/**
 * The stateful parts of the identity system on every backend, with several "processes" (each its
 * own pool or client and its own Identity instance, sharing one keyring) racing each other:
 * email uniqueness under concurrent creates, refresh-token rotation and reuse detection, TOTP
 * replay, SIWE nonce single use, the shared signing key set, and revocation on user deletion.
 * Time is a shared manual clock (started at the real time, so backend TTLs stay sensible).
 */
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { StorageAdapter } from '../../src/adapters/storage.js';
import { ManualClock } from '../../src/core/clock.js';
import { base32Decode, createIdentity, totp, type Identity } from '../../src/identity/index.js';
import { AesKey, Keyring } from '../../src/security/primitives.js';
import { memoryStorageBackend, postgresStorageBackend, redisStorageBackend } from '../support/storage-backends.js';

const databaseUrl = inject('databaseUrl');
const redisUrl = inject('redisUrl');
const notes = inject('serverNotes');
const PROCESSES = 3;
const PASSWORD = 'correct horse battery staple';

for (const make of [(c: ManualClock) => memoryStorageBackend(c), () => postgresStorageBackend(databaseUrl, 'dfid'), () => redisStorageBackend(redisUrl, 'dfid')]) {
  const clock = new ManualClock(Date.now());
  const backend = make(clock);
  describe.skipIf(!backend.available)(`identity on ${backend.name} with ${PROCESSES} processes`, () => {
    let identities: Identity[];

    beforeAll(async () => {
      const keyring = new Keyring({ keys: [AesKey.generate({ id: 'shared' })] });
      const storages = await backend.open(PROCESSES);
      identities = [];
      // Sequential: the first creates the signing key, the others load it.
      for (const storage of storages) {
        identities.push(
          await createIdentity({
            storage,
            keyring,
            clock,
            issuer: 'https://app.example.com',
            audience: 'https://api.example.com',
            password: { algorithm: 'argon2id', argon2id: { memoryKiB: 1024, iterations: 1 } },
            tokens: { algorithm: 'EdDSA' },
            mfa: { throttle: { maxAttempts: 50 } },
          }),
        );
      }
    }, 60_000);

    afterAll(async () => {
      await backend.teardown();
    });

    it('keeps emails unique under concurrent creates from every process', async () => {
      const attempts = Array.from({ length: 24 }, (_, i) => identities[i % PROCESSES]!.users.create({ email: 'Race@Example.com', displayName: `racer ${i}` }));
      const results = await Promise.allSettled(attempts);
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as { code?: string }).code).toBe('CONFLICT');
      expect((await identities[1]!.users.findByEmail('race@example.com'))?.email).toBe('race@example.com');
      // Distinct emails all succeed concurrently.
      const distinct = await Promise.all(Array.from({ length: 9 }, (_, i) => identities[i % PROCESSES]!.users.create({ email: `distinct${i}@example.com`, displayName: `d${i}` })));
      expect(new Set(distinct.map((u) => u.id)).size).toBe(9);
    });

    it('rotates refresh tokens across processes and revokes the family on reuse, also when the reuse is concurrent', async () => {
      const [a, b, c] = identities as [Identity, Identity, Identity];
      await a.users.create({ email: 'rotate@example.com', displayName: 'Rotate', password: PASSWORD });
      const signIn = await a.signIn({ email: 'rotate@example.com', password: PASSWORD });
      if (signIn.status !== 'authenticated') throw new Error('expected a session');
      const second = await b.refresh(signIn.tokens.refreshToken);
      await expect(c.authenticate(second.accessToken)).resolves.toMatchObject({ sessionId: signIn.tokens.sessionId });
      const race = await Promise.allSettled([a, b, c, a, b, c].map((p) => p.refresh(second.refreshToken)));
      expect(race.filter((r) => r.status === 'fulfilled').length).toBeLessThanOrEqual(1);
      // Whoever won, the token was presented more than once: the family is gone everywhere.
      for (const p of identities) {
        expect((await p.sessions.get(signIn.user.id, signIn.tokens.sessionId))).toBeNull();
      }
      const stale = await Promise.allSettled([c.refresh(signIn.tokens.refreshToken)]);
      expect((stale[0] as PromiseRejectedResult).reason.code).toMatch(/^AUTH_TOKEN_(INVALID|REUSED)$/);
      await expect(a.authenticate(second.accessToken)).rejects.toMatchObject({ code: 'AUTH_TOKEN_INVALID', details: { reason: 'revoked' } });

      // Plain reuse (not concurrent) is reported as such.
      const again = await a.signIn({ email: 'rotate@example.com', password: PASSWORD });
      if (again.status !== 'authenticated') throw new Error('expected a session');
      await b.refresh(again.tokens.refreshToken);
      await expect(c.refresh(again.tokens.refreshToken)).rejects.toMatchObject({ code: 'AUTH_TOKEN_REUSED' });
    });

    it('accepts a TOTP code once across processes, however many race for it', async () => {
      const [a, b, c] = identities as [Identity, Identity, Identity];
      const user = await a.users.create({ email: 'totp@example.com', displayName: 'TOTP' });
      const { secret } = await a.mfa.beginEnrollment(user.id);
      const key = base32Decode(secret)!;
      await b.mfa.confirmEnrollment(user.id, totp(key, clock.now()));
      clock.advance(30_000);
      const code = totp(key, clock.now());
      const results = await Promise.allSettled([a, b, c, a, b, c, a, b, c].map((p) => p.mfa.verify(user.id, { code })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as { details?: { reason?: string } }).details?.reason).toBe('replayed');
      await expect(c.mfa.verify(user.id, { code })).rejects.toMatchObject({ code: 'AUTH_INVALID_CREDENTIALS', details: { reason: 'replayed' } });
    });

    it('lets a SIWE nonce be used once across processes', async () => {
      const [a, b, c] = identities as [Identity, Identity, Identity];
      const wallet = Wallet.createRandom();
      const { nonce } = await a.siwe.issueNonce();
      const message = b.siwe.createMessage({ address: wallet.address, nonce });
      const signature = await wallet.signMessage(message);
      const results = await Promise.allSettled([a, b, c, a, b, c].map((p) => p.signInWithEthereum({ message, signature })));
      expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of results) if (r.status === 'rejected') expect((r.reason as { details?: { reason?: string } }).details?.reason).toBe('nonce');
      // The same address signing in again (fresh nonce) finds the same user, from any process.
      const first = results.find((r) => r.status === 'fulfilled') as PromiseFulfilledResult<Awaited<ReturnType<Identity['signInWithEthereum']>>>;
      const again = await c.signInWithEthereum(await (async () => {
        const fresh = b.siwe.createMessage({ address: wallet.address, nonce: (await b.siwe.issueNonce()).nonce });
        return { message: fresh, signature: await wallet.signMessage(fresh) };
      })());
      expect(again.status === 'authenticated' && again.user.id).toBe(first.value.status === 'authenticated' && first.value.user.id);
    });

    it('shares the signing keys: tokens verify everywhere, rotation is seen by the others, rotateIfOlderThan rotates once', async () => {
      const [a, b, c] = identities as [Identity, Identity, Identity];
      const { token, kid } = await a.accessTokens.issue({ subject: 'svc' });
      await expect(b.accessTokens.verify(token)).resolves.toMatchObject({ kid });
      const rotated = await b.keys.rotate();
      const fresh = await b.accessTokens.issue({ subject: 'svc' });
      expect(fresh.kid).toBe(rotated.kid);
      await expect(c.accessTokens.verify(fresh.token)).resolves.toMatchObject({ kid: rotated.kid }); // unknown kid → reload
      await expect(c.accessTokens.verify(token)).resolves.toMatchObject({ kid }); // old key still verifies
      clock.advance(2 * 86_400_000);
      const results = await Promise.all(identities.map((p) => p.keys.rotateIfOlderThan(86_400_000)));
      expect(results.filter((r) => r !== null)).toHaveLength(1);
      await Promise.all(identities.map((p) => p.keys.refresh()));
      expect(new Set(identities.map((p) => JSON.stringify(p.jwks())))).toHaveProperty('size', 1);
      // Two days on, the first key is past its verification window: retired everywhere.
      await expect(a.accessTokens.verify(token)).rejects.toMatchObject({ code: 'AUTH_TOKEN_INVALID' });
    });

    it('deleting a user in one process revokes its sessions in all of them', async () => {
      const [a, b, c] = identities as [Identity, Identity, Identity];
      const user = await a.users.create({ email: 'leaver@example.com', displayName: 'Leaver', password: PASSWORD });
      const s1 = await b.signIn({ email: 'leaver@example.com', password: PASSWORD });
      const s2 = await c.signIn({ email: 'leaver@example.com', password: PASSWORD });
      if (s1.status !== 'authenticated' || s2.status !== 'authenticated') throw new Error('expected sessions');
      await c.users.delete(user.id);
      for (const p of identities) {
        await expect(p.authenticate(s1.tokens.accessToken)).rejects.toMatchObject({ code: 'AUTH_TOKEN_INVALID' });
        await expect(p.authenticate(s2.tokens.accessToken)).rejects.toMatchObject({ code: 'AUTH_TOKEN_INVALID' });
      }
      await expect(a.refresh(s1.tokens.refreshToken)).rejects.toMatchObject({ code: 'AUTH_TOKEN_INVALID' });
      expect(await b.sessions.list(user.id)).toEqual([]);
    });
  });
}

describe.skipIf(databaseUrl !== '' && redisUrl !== '')('identity backends availability', () => {
  it(`skips unavailable backends loudly: ${notes}`, () => {
    console.warn(`[identity integration] skipped backends: ${notes}`);
  });
});
