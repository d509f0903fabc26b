import { describe, expect, it } from 'vitest';
import { base32Decode, totp, type MfaChallenge } from '../../../src/identity/index.js';
import { failure, testIdentity, type TestIdentity } from './support/identity.js';

const PASSWORD = 'correct horse battery staple';

async function userWithMfa(t: TestIdentity): Promise<{ userId: string; key: Uint8Array; recoveryCodes: string[]; secret: string }> {
  const user = await t.identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: PASSWORD });
  const { secret } = await t.identity.mfa.beginEnrollment(user.id);
  const key = base32Decode(secret)!;
  const { recoveryCodes } = await t.identity.mfa.confirmEnrollment(user.id, totp(key, t.clock.now()));
  t.clock.advance(30_000);
  return { userId: user.id, key, recoveryCodes, secret };
}

async function challenge(t: TestIdentity): Promise<MfaChallenge> {
  const result = await t.identity.signIn({ email: 'ada@example.com', password: PASSWORD });
  if (result.status !== 'mfa_required') throw new Error('expected an MFA challenge');
  return result;
}

describe('sign-in', () => {
  it('password alone yields tokens for a user without MFA', async () => {
    const t = await testIdentity({ claims: (user) => ({ tier: user.tier, roles: user.roles }) });
    const user = await t.identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: PASSWORD, roles: { acme: ['admin'] } });
    const result = await t.identity.signIn({ email: ' ADA@example.com', password: PASSWORD });
    expect(result.status).toBe('authenticated');
    if (result.status !== 'authenticated') return;
    expect(result.tokens.tokenType).toBe('Bearer');
    const principal = await t.identity.authenticate(result.tokens.accessToken);
    expect(principal).toMatchObject({ userId: user.id, amr: ['pwd'], claims: { tier: 1, roles: { acme: ['admin'] } } });
    expect(await failure(t.identity.authenticate(result.tokens.accessToken, { requireMfa: true }))).toMatchObject({ code: 'AUTH_MFA_REQUIRED' });
  });

  it('never yields a full token to a password alone when MFA is on', async () => {
    const t = await testIdentity();
    const { userId } = await userWithMfa(t);
    const result = await challenge(t);
    expect(result).toMatchObject({ status: 'mfa_required', userId });
    expect(result).not.toHaveProperty('tokens');
    // The challenge is signed by the same keys but is not an access token.
    expect(await failure(t.identity.authenticate(result.challenge))).toMatchObject({ code: 'AUTH_TOKEN_INVALID', reason: 'type' });
    expect(await failure(t.identity.accessTokens.verify(result.challenge))).toMatchObject({ reason: 'type' });
    expect(await t.identity.sessions.list(userId)).toEqual([]);
  });

  it('completes with a TOTP code (amr pwd+otp+mfa) or a recovery code; a challenge yields one session', async () => {
    const t = await testIdentity();
    const { userId, key, recoveryCodes } = await userWithMfa(t);
    const c1 = await challenge(t);
    expect(await failure(t.identity.completeSignIn({ challenge: c1.challenge, code: '000000' }))).toMatchObject({ code: 'AUTH_INVALID_CREDENTIALS', reason: 'code' });
    const done = await t.identity.completeSignIn({ challenge: c1.challenge, code: totp(key, t.clock.now()) });
    expect((await t.identity.authenticate(done.tokens.accessToken, { requireMfa: true })).amr).toEqual(['pwd', 'otp', 'mfa']);
    t.clock.advance(30_000);
    expect(await failure(t.identity.completeSignIn({ challenge: c1.challenge, code: totp(key, t.clock.now()) }))).toMatchObject({ code: 'AUTH_TOKEN_INVALID', reason: 'unknown_token' });
    const c2 = await challenge(t);
    const viaRecovery = await t.identity.completeSignIn({ challenge: c2.challenge, recoveryCode: recoveryCodes[0]! });
    expect((await t.identity.authenticate(viaRecovery.tokens.accessToken)).amr).toEqual(['pwd', 'mfa']);
    expect(await t.identity.sessions.list(userId)).toHaveLength(2);
  });

  it('refuses expired or forged challenges, and access tokens offered as challenges', async () => {
    const t = await testIdentity();
    const { key } = await userWithMfa(t);
    const c = await challenge(t);
    t.clock.advance(5 * 60_000 + 5_001);
    expect((await failure(t.identity.completeSignIn({ challenge: c.challenge, code: totp(key, t.clock.now()) }))).code).toBe('AUTH_TOKEN_EXPIRED');
    const plain = await t.identity.users.create({ email: 'plain@example.com', displayName: 'Plain', password: PASSWORD });
    const session = await t.identity.signIn({ email: 'plain@example.com', password: PASSWORD });
    if (session.status !== 'authenticated') throw new Error('expected a session');
    expect(await failure(t.identity.completeSignIn({ challenge: session.tokens.accessToken, code: '123456' }))).toMatchObject({ reason: 'type' });
    const [h, p] = c.challenge.split('.');
    expect((await failure(t.identity.completeSignIn({ challenge: `${h}.${p}.AAAA`, code: '123456' }))).code).toBe('AUTH_TOKEN_INVALID');
    expect(plain.id).toBeDefined();
  });

  it('answers wrong passwords and unknown emails the same way, and locks out guessing', async () => {
    const t = await testIdentity({ loginThrottle: { maxAttempts: 3, lockoutMs: 600_000 } });
    await t.identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: PASSWORD });
    const wrong = await failure(t.identity.signIn({ email: 'ada@example.com', password: 'nope nope nope' }));
    const unknown = await failure(t.identity.signIn({ email: 'nobody@example.com', password: 'nope nope nope' }));
    expect(wrong.code).toBe('AUTH_INVALID_CREDENTIALS');
    expect([unknown.code, unknown.message, unknown.details]).toEqual([wrong.code, wrong.message, wrong.details]);
    await failure(t.identity.signIn({ email: 'ada@example.com', password: 'nope nope nope' }));
    await failure(t.identity.signIn({ email: 'ada@example.com', password: 'nope nope nope' }));
    expect(await failure(t.identity.signIn({ email: 'ada@example.com', password: PASSWORD }))).toMatchObject({ code: 'AUTH_LOCKED', details: { retryAfterMs: 600_000 } });
    expect(t.recorder.lines.some((l) => l.includes('"event"') && l.includes('identity.login_locked'))).toBe(true);
    expect(t.recorder.leaks(['ada@example.com'])).toEqual([]);
    t.clock.advance(600_000);
    await expect(t.identity.signIn({ email: 'ADA@example.com', password: PASSWORD })).resolves.toMatchObject({ status: 'authenticated' });
  });

  it('does not let the window boundary double the budget (sliding window)', async () => {
    const t = await testIdentity({ loginThrottle: { maxAttempts: 4, windowMs: 60_000, lockoutMs: 60_000 } });
    await t.identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: PASSWORD });
    t.clock.set(Math.ceil(t.clock.now() / 60_000) * 60_000 + 59_000); // 1 s before a window boundary
    for (let i = 0; i < 3; i++) await failure(t.identity.signIn({ email: 'ada@example.com', password: 'nope nope nope' }));
    t.clock.advance(2_000); // just past the boundary: a fixed window would allow 4 more
    const codes: (string | undefined)[] = [];
    for (let i = 0; i < 4; i++) codes.push((await failure(t.identity.signIn({ email: 'ada@example.com', password: 'nope nope nope' }))).code);
    expect(codes.filter((c) => c === 'AUTH_INVALID_CREDENTIALS').length).toBeLessThanOrEqual(1);
  });

  it('keeps every secret out of errors, logs and events across the whole flow', async () => {
    const t = await testIdentity();
    const { userId, key, recoveryCodes, secret } = await userWithMfa(t);
    const errors: unknown[] = [];
    const c = await challenge(t);
    errors.push((await failure(t.identity.completeSignIn({ challenge: c.challenge, code: '999999' }))).error);
    const done = await t.identity.completeSignIn({ challenge: c.challenge, code: totp(key, t.clock.now()) });
    const next = await t.identity.refresh(done.tokens.refreshToken);
    errors.push((await failure(t.identity.refresh(done.tokens.refreshToken))).error); // reuse
    errors.push((await failure(t.identity.signIn({ email: 'ada@example.com', password: `${PASSWORD}!` }))).error);
    errors.push((await failure(t.identity.authenticate(`${next.accessToken}x`))).error);
    const { wallet, mnemonic } = await t.identity.wallets.create(userId, { words: 12 });
    errors.push((await failure(t.identity.wallets.import(userId, { mnemonic: `${mnemonic} extra` }))).error);
    const secrets = [PASSWORD, `${PASSWORD}!`, secret, ...recoveryCodes, c.challenge, done.tokens.accessToken, done.tokens.refreshToken, next.accessToken, next.refreshToken, mnemonic];
    const rendered = errors.map((e) => JSON.stringify([String(e), (e as { details?: unknown }).details, (e as { toJSON?: () => unknown }).toJSON?.()])).join('\n');
    for (const s of secrets) expect(rendered.includes(s), `error mentions a secret: ${s.slice(0, 8)}…`).toBe(false);
    expect(t.recorder.leaks(secrets)).toEqual([]);
    expect(t.recorder.lines.length).toBeGreaterThan(5);
    expect(wallet.id).toBeDefined();
  });

  it('validates sign-in input', async () => {
    const t = await testIdentity();
    expect((await failure(t.identity.signIn({ email: 'not an email', password: 'x' }))).code).toBe('VALIDATION_FAILED');
    expect((await failure(t.identity.signIn({ email: 'a@example.com', password: '' }))).code).toBe('VALIDATION_FAILED');
    expect((await failure(t.identity.completeSignIn({ challenge: 'x' } as never))).code).toBe('VALIDATION_FAILED');
  });
});
