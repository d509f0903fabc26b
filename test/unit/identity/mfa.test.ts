import { describe, expect, it } from 'vitest';
import { base32Decode, totp } from '../../../src/identity/index.js';
import { failure, testIdentity, type TestIdentity } from './support/identity.js';

async function enrolled(t: TestIdentity, options: { confirm?: boolean } = {}): Promise<{ userId: string; key: Uint8Array; recoveryCodes: string[]; secret: string }> {
  const user = await t.identity.users.create({ email: `u${Math.random().toString(36).slice(2)}@example.com`, displayName: 'MFA user', password: 'correct horse battery' });
  const { secret } = await t.identity.mfa.beginEnrollment(user.id);
  const key = base32Decode(secret)!;
  if (options.confirm === false) return { userId: user.id, key, recoveryCodes: [], secret };
  const { recoveryCodes } = await t.identity.mfa.confirmEnrollment(user.id, totp(key, t.clock.now()));
  t.clock.advance(30_000); // the confirming code's step is spent
  return { userId: user.id, key, recoveryCodes, secret };
}

describe('TOTP enrolment', () => {
  it('generates a 160-bit secret and an otpauth URI, encrypts the secret at rest, and activates on the first valid code', async () => {
    const t = await testIdentity({ mfa: { issuer: 'Digital Fabrica' } });
    const user = await t.identity.users.create({ email: 'ada@example.com', displayName: 'Ada' });
    const enrollment = await t.identity.mfa.beginEnrollment(user.id);
    expect(base32Decode(enrollment.secret)).toHaveLength(20);
    expect(enrollment.otpauthUri).toBe(`otpauth://totp/Digital%20Fabrica:ada%40example.com?secret=${enrollment.secret}&issuer=Digital%20Fabrica&algorithm=SHA1&digits=6&period=30`);
    expect(JSON.stringify(await t.storage.get('identity.mfa', user.id))).not.toContain(enrollment.secret);
    expect(await t.identity.mfa.status(user.id)).toEqual({ enabled: false, pending: true, confirmedAt: null, recoveryCodesRemaining: 0 });
    expect((await failure(t.identity.mfa.confirmEnrollment(user.id, '000000'))).reason).toBe('code');
    const { recoveryCodes } = await t.identity.mfa.confirmEnrollment(user.id, totp(base32Decode(enrollment.secret)!, t.clock.now()));
    expect(recoveryCodes).toHaveLength(10);
    expect(new Set(recoveryCodes).size).toBe(10);
    for (const code of recoveryCodes) expect(code).toMatch(/^[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}$/);
    expect(await t.identity.mfa.status(user.id)).toMatchObject({ enabled: true, pending: false, recoveryCodesRemaining: 10 });
    const stored = JSON.stringify(await t.storage.get('identity.mfa', user.id));
    for (const code of recoveryCodes) expect(stored).not.toContain(code.replaceAll('-', ''));
    expect((await failure(t.identity.mfa.beginEnrollment(user.id))).code).toBe('CONFLICT');
    expect(t.recorder.leaks([enrollment.secret, ...recoveryCodes])).toEqual([]);
  });

  it('lets a pending enrolment expire', async () => {
    const t = await testIdentity();
    const { userId, key } = await enrolled(t, { confirm: false });
    t.clock.advance(10 * 60_000);
    expect(await failure(t.identity.mfa.confirmEnrollment(userId, totp(key, t.clock.now())))).toMatchObject({ code: 'AUTH_INVALID_CREDENTIALS', reason: 'not_enrolled' });
  });
});

describe('TOTP verification', () => {
  it('accepts the current step ±1 and nothing further', async () => {
    const t = await testIdentity({ mfa: { throttle: { maxAttempts: 50 } } });
    const { userId, key } = await enrolled(t);
    t.clock.advance(5 * 30_000);
    const now = t.clock.now();
    expect(await failure(t.identity.mfa.verify(userId, { code: totp(key, now - 60_000) }))).toMatchObject({ reason: 'code' });
    expect(await failure(t.identity.mfa.verify(userId, { code: totp(key, now + 60_000) }))).toMatchObject({ reason: 'code' });
    await expect(t.identity.mfa.verify(userId, { code: totp(key, now - 30_000) })).resolves.toEqual({ method: 'totp' });
    await expect(t.identity.mfa.verify(userId, { code: totp(key, now) })).resolves.toEqual({ method: 'totp' });
    await expect(t.identity.mfa.verify(userId, { code: totp(key, now + 30_000) })).resolves.toEqual({ method: 'totp' });
  });

  it('accepts each code once, and never an older step after a newer one (RFC 6238 §5.2)', async () => {
    const t = await testIdentity({ mfa: { throttle: { maxAttempts: 50 } } });
    const { userId, key } = await enrolled(t);
    const now = t.clock.now();
    const code = totp(key, now);
    await t.identity.mfa.verify(userId, { code });
    expect(await failure(t.identity.mfa.verify(userId, { code }))).toMatchObject({ code: 'AUTH_INVALID_CREDENTIALS', reason: 'replayed' });
    await t.identity.mfa.verify(userId, { code: totp(key, now + 30_000) });
    expect(await failure(t.identity.mfa.verify(userId, { code: totp(key, now - 30_000) }))).toMatchObject({ reason: 'replayed' });
  });

  it('accepts a code once even under concurrent verification', async () => {
    const t = await testIdentity({ mfa: { throttle: { maxAttempts: 50 } } });
    const { userId, key } = await enrolled(t);
    const code = totp(key, t.clock.now());
    const results = await Promise.allSettled(Array.from({ length: 10 }, () => t.identity.mfa.verify(userId, { code })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('recovery codes work once each, case- and dash-insensitively, and can be regenerated', async () => {
    const t = await testIdentity();
    const { userId, recoveryCodes } = await enrolled(t);
    const [first, second] = recoveryCodes as [string, string];
    await expect(t.identity.mfa.verify(userId, { recoveryCode: first.toLowerCase().replaceAll('-', ' ') })).resolves.toEqual({ method: 'recovery_code' });
    expect(await failure(t.identity.mfa.verify(userId, { recoveryCode: first }))).toMatchObject({ reason: 'recovery_code' });
    expect((await t.identity.mfa.status(userId)).recoveryCodesRemaining).toBe(9);
    const fresh = await t.identity.mfa.regenerateRecoveryCodes(userId);
    expect(await failure(t.identity.mfa.verify(userId, { recoveryCode: second }))).toMatchObject({ reason: 'recovery_code' });
    await expect(t.identity.mfa.verify(userId, { recoveryCode: fresh[0]! })).resolves.toEqual({ method: 'recovery_code' });
    const results = await Promise.allSettled(Array.from({ length: 5 }, () => t.identity.mfa.verify(userId, { recoveryCode: fresh[1]! })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('throttles failures and locks the factor, then recovers after the lockout', async () => {
    const t = await testIdentity({ mfa: { throttle: { maxAttempts: 3, windowMs: 600_000, lockoutMs: 900_000 } } });
    const { userId, key } = await enrolled(t);
    for (let i = 0; i < 3; i++) expect((await failure(t.identity.mfa.verify(userId, { code: '000000' }))).code).toBe('AUTH_INVALID_CREDENTIALS');
    // Locked: even the right code is refused now, with the time left.
    const locked = await failure(t.identity.mfa.verify(userId, { code: totp(key, t.clock.now()) }));
    expect(locked).toMatchObject({ code: 'AUTH_LOCKED', details: { retryAfterMs: 900_000 } });
    expect((await failure(t.identity.mfa.verify(userId, { recoveryCode: 'AAAA-AAAA-AAAA-AAAA' }))).code).toBe('AUTH_LOCKED');
    t.clock.advance(900_000);
    await expect(t.identity.mfa.verify(userId, { code: totp(key, t.clock.now()) })).resolves.toEqual({ method: 'totp' });
  });

  it('does not let concurrent guesses exceed the budget', async () => {
    const t = await testIdentity({ mfa: { throttle: { maxAttempts: 5 } } });
    const { userId } = await enrolled(t);
    const results = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => t.identity.mfa.verify(userId, { code: String(100000 + i) })));
    const codes = results.map((r) => (r as PromiseRejectedResult).reason.code);
    expect(codes.filter((c) => c === 'AUTH_INVALID_CREDENTIALS').length).toBeLessThanOrEqual(5);
    expect(codes.filter((c) => c === 'AUTH_LOCKED').length).toBeGreaterThanOrEqual(15);
  });

  it('disables MFA and reports users without it', async () => {
    const t = await testIdentity();
    const { userId, key } = await enrolled(t);
    expect(await t.identity.mfa.disable(userId)).toBe(true);
    expect(await failure(t.identity.mfa.verify(userId, { code: totp(key, t.clock.now()) }))).toMatchObject({ reason: 'not_enrolled' });
    expect(await t.identity.mfa.status(userId)).toEqual({ enabled: false, pending: false, confirmedAt: null, recoveryCodesRemaining: 0 });
  });
});
