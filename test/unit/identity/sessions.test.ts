import { describe, expect, it } from 'vitest';
import { REFRESH_TOKEN_PREFIX } from '../../../src/identity/index.js';
import { failure, testIdentity } from './support/identity.js';

describe('refresh tokens and sessions', () => {
  it('issues opaque random tokens and stores only their SHA3-256 hash', async () => {
    const { identity, storage } = await testIdentity();
    const { refreshToken, session } = await identity.sessions.create('user-1', { amr: ['pwd'] });
    expect(refreshToken).toMatch(/^dfrt_[A-Za-z0-9_-]{43}$/);
    expect(refreshToken.startsWith(REFRESH_TOKEN_PREFIX)).toBe(true);
    const dump = JSON.stringify([await storage.list('identity.refresh'), await storage.list('identity.sessions')]);
    expect(dump).not.toContain(refreshToken.slice(REFRESH_TOKEN_PREFIX.length));
    expect(session).toMatchObject({ userId: 'user-1', amr: ['pwd'], generation: 0 });
    const again = await identity.sessions.create('user-1');
    expect(again.refreshToken).not.toBe(refreshToken);
  });

  it('rotates on every use; the spent token, used again, revokes the whole family', async () => {
    const { identity, recorder } = await testIdentity();
    const first = await identity.sessions.create('user-1');
    const second = await identity.sessions.rotate(first.refreshToken);
    const third = await identity.sessions.rotate(second.refreshToken);
    expect(third.session.generation).toBe(2);
    expect(third.session.id).toBe(first.session.id);
    // The thief replays an old token: the family dies, including the legitimate newest token.
    expect(await failure(identity.sessions.rotate(first.refreshToken))).toMatchObject({ code: 'AUTH_TOKEN_REUSED', details: { sessionId: first.session.id } });
    expect(await failure(identity.sessions.rotate(third.refreshToken))).toMatchObject({ code: 'AUTH_TOKEN_INVALID' });
    expect(await identity.sessions.get('user-1', first.session.id)).toBeNull();
    // An alert went out, with ids only.
    expect(recorder.lines.some((l) => l.includes('identity.refresh_token_reused'))).toBe(true);
    expect(recorder.leaks([first.refreshToken, second.refreshToken, third.refreshToken])).toEqual([]);
  });

  it('lets exactly one of concurrent uses of one token succeed, and then revokes the family', async () => {
    const { identity } = await testIdentity();
    const first = await identity.sessions.create('user-1');
    const results = await Promise.allSettled(Array.from({ length: 6 }, () => identity.sessions.rotate(first.refreshToken)));
    const ok = results.filter((r) => r.status === 'fulfilled');
    expect(ok.length).toBeLessThanOrEqual(1);
    const codes = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason.code);
    expect(codes.every((c) => c === 'AUTH_TOKEN_REUSED' || c === 'AUTH_TOKEN_INVALID')).toBe(true);
    expect(await identity.sessions.get('user-1', first.session.id)).toBeNull();
  });

  it('expires after the idle timeout and at the absolute session end', async () => {
    const { identity, clock } = await testIdentity({ sessions: { refreshTtlMs: 3_600_000, sessionMaxAgeMs: 3 * 3_600_000 } });
    const idle = await identity.sessions.create('user-1');
    clock.advance(3_600_000);
    expect((await failure(identity.sessions.rotate(idle.refreshToken))).code).toBe('AUTH_TOKEN_EXPIRED');
    let current = await identity.sessions.create('user-1');
    for (let i = 0; i < 3; i++) {
      clock.advance(3_000_000);
      current = await identity.sessions.rotate(current.refreshToken);
    }
    // Sliding idle expiry never passes the absolute end.
    expect(current.refreshExpiresAt).toBe(current.session.expiresAt);
    clock.set(current.session.expiresAt);
    expect((await failure(identity.sessions.rotate(current.refreshToken))).code).toBe('AUTH_TOKEN_EXPIRED');
    // Once storage has collected the expired documents, the token is simply unknown.
    clock.advance(86_400_000);
    expect((await failure(identity.sessions.rotate(current.refreshToken))).code).toBe('AUTH_TOKEN_INVALID');
  });

  it('logs out one session, or all of a user\'s sessions', async () => {
    const { identity } = await testIdentity();
    const user = await identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: 'correct horse battery' });
    const sign = async () => {
      const r = await identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' });
      if (r.status !== 'authenticated') throw new Error('expected a session');
      return r.tokens;
    };
    const a = await sign();
    const b = await sign();
    const c = await sign();
    expect(await identity.logout(a.refreshToken)).toBe(true);
    expect(await identity.logout(a.refreshToken)).toBe(false);
    expect(await failure(identity.authenticate(a.accessToken))).toMatchObject({ reason: 'revoked' });
    await expect(identity.authenticate(b.accessToken)).resolves.toBeDefined();
    expect(await identity.logoutEverywhere(user.id)).toBe(2);
    for (const t of [b, c]) {
      expect(await failure(identity.authenticate(t.accessToken))).toMatchObject({ reason: 'revoked' });
      expect((await failure(identity.refresh(t.refreshToken))).code).toBe('AUTH_TOKEN_INVALID');
    }
    expect(await identity.sessions.list(user.id)).toEqual([]);
  });

  it('treats malformed and unknown tokens alike', async () => {
    const { identity } = await testIdentity();
    for (const token of ['', 'dfrt_', 'dfrt_' + 'A'.repeat(43), 'x'.repeat(5000), 42 as unknown as string]) {
      expect(await failure(identity.sessions.rotate(token))).toMatchObject({ code: 'AUTH_TOKEN_INVALID', reason: 'unknown_token' });
    }
  });

  it('refresh issues a new access token for the same session and checks the user', async () => {
    const { identity } = await testIdentity();
    const user = await identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: 'correct horse battery' });
    const r = await identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' });
    if (r.status !== 'authenticated') throw new Error('expected a session');
    const next = await identity.refresh(r.tokens.refreshToken);
    expect(next.sessionId).toBe(r.tokens.sessionId);
    const principal = await identity.authenticate(next.accessToken);
    expect(principal).toMatchObject({ userId: user.id, sessionId: r.tokens.sessionId, amr: ['pwd'] });
    expect((await failure(identity.refresh(r.tokens.refreshToken))).code).toBe('AUTH_TOKEN_REUSED');
  });
});
