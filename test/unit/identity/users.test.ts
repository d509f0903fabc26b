import { describe, expect, it } from 'vitest';
import { createUserInputSchema, emailSchema, updateUserInputSchema, userSchema } from '../../../src/identity/index.js';
import { failure, testIdentity } from './support/identity.js';

describe('user schemas', () => {
  it('normalises emails for uniqueness and refuses non-addresses', () => {
    expect(emailSchema.parse('  Ada@Example.COM ')).toBe('ada@example.com');
    expect(emailSchema.parse('ada@BÜCHER.example')).toBe('ada@xn--bcher-kva.example');
    expect(emailSchema.parse('ada+tag@example.com')).toBe('ada+tag@example.com');
    for (const bad of ['ada', 'ada@', '@example.com', 'ada@example', 'a b@example.com', 'ada@example.com/x', 'ada@example.com:25', 'ada@1.2.3.4', '.ada@example.com', 'a..b@example.com', `${'a'.repeat(65)}@example.com`]) {
      expect(emailSchema.safeParse(bad).success, bad).toBe(false);
    }
  });

  it('applies defaults and limits on create and update bodies', () => {
    expect(createUserInputSchema.parse({ displayName: ' Ada ' })).toEqual({ displayName: 'Ada', tier: 1, status: 'active', roles: {} });
    expect(createUserInputSchema.parse({ displayName: 'x', roles: { acme: ['b', 'a', 'a'] } }).roles).toEqual({ acme: ['a', 'b'] });
    for (const bad of [{}, { displayName: '' }, { displayName: 'x', tier: -1 }, { displayName: 'x', tier: 1.5 }, { displayName: 'x', status: 'gone' }, { displayName: 'x', password: 'short' }, { displayName: 'x', extra: 1 }, { displayName: 'a\u0000b' }, { displayName: 'x', roles: { 'bad tenant': ['r'] } }]) {
      expect(createUserInputSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    expect(updateUserInputSchema.safeParse({}).success).toBe(false);
    expect(updateUserInputSchema.parse({ tier: 3 })).toEqual({ tier: 3 });
  });
});

describe('users service', () => {
  it('creates, reads, updates, lists and deletes users; never returns credentials', async () => {
    const { identity } = await testIdentity();
    const ada = await identity.users.create({ email: 'Ada@Example.com', displayName: 'Ada', password: 'correct horse battery', roles: { acme: ['admin'] } });
    expect(userSchema.parse(ada)).toEqual(ada);
    expect(ada).toMatchObject({ email: 'ada@example.com', tier: 1, status: 'active', hasPassword: true, roles: { acme: ['admin'] } });
    expect(JSON.stringify(ada)).not.toMatch(/argon2|passwordHash/);
    expect(await identity.users.get(ada.id)).toEqual(ada);
    expect((await identity.users.findByEmail('ADA@example.com'))?.id).toBe(ada.id);
    const updated = await identity.users.update(ada.id, { displayName: 'Ada L.', tier: 4 }, { ifVersion: ada.version });
    expect(updated).toMatchObject({ displayName: 'Ada L.', tier: 4, email: 'ada@example.com' });
    expect(updated.version).toBeGreaterThan(ada.version);
    expect((await failure(identity.users.update(ada.id, { tier: 5 }, { ifVersion: ada.version }))).code).toBe('CONFLICT');
    expect((await identity.users.setRoles(ada.id, 'beta', ['viewer'])).roles).toEqual({ acme: ['admin'], beta: ['viewer'] });
    expect((await identity.users.setRoles(ada.id, 'acme', [])).roles).toEqual({ beta: ['viewer'] });
    await identity.users.delete(ada.id);
    expect(await identity.users.find(ada.id)).toBeNull();
    expect(await identity.users.findByEmail('ada@example.com')).toBeNull();
    expect((await failure(identity.users.get(ada.id))).code).toBe('NOT_FOUND');
    expect((await failure(identity.users.delete(ada.id))).code).toBe('NOT_FOUND');
    // The email is free again.
    await expect(identity.users.create({ email: 'ada@example.com', displayName: 'Ada 2' })).resolves.toBeDefined();
  });

  it('keeps emails unique: on create, on update, and across concurrent creates', async () => {
    const { identity } = await testIdentity();
    await identity.users.create({ email: 'ada@example.com', displayName: 'Ada' });
    expect((await failure(identity.users.create({ email: ' ADA@example.com', displayName: 'Imposter' }))).code).toBe('CONFLICT');
    const grace = await identity.users.create({ email: 'grace@example.com', displayName: 'Grace' });
    expect(await failure(identity.users.update(grace.id, { email: 'ada@example.com' }))).toMatchObject({ code: 'CONFLICT', details: { field: 'email' } });
    // Moving an email releases the old one in the same transaction.
    await identity.users.update(grace.id, { email: 'grace@hopper.example' });
    await expect(identity.users.create({ email: 'grace@example.com', displayName: 'Another Grace' })).resolves.toBeDefined();
    const results = await Promise.allSettled(Array.from({ length: 25 }, (_, i) => identity.users.create({ email: 'race@example.com', displayName: `racer ${i}` })));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
    expect(results.filter((r) => r.status === 'rejected').every((r) => (r as PromiseRejectedResult).reason.code === 'CONFLICT')).toBe(true);
  });

  it('pages through users in creation order with a cursor', async () => {
    const { identity } = await testIdentity();
    const created = [];
    for (let i = 0; i < 7; i++) created.push(await identity.users.create({ displayName: `user ${i}` }));
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await identity.users.list({ limit: 3, ...(cursor ? { cursor } : {}) });
      expect(page.items.length).toBeLessThanOrEqual(3);
      seen.push(...page.items.map((u) => u.id));
      cursor = page.cursor ?? undefined;
    } while (cursor);
    expect(seen).toEqual(created.map((u) => u.id));
    expect((await failure(identity.users.list({ limit: 0 }))).code).toBe('VALIDATION_FAILED');
  });

  it('sets and changes passwords, revoking sessions; a wrong current password is refused', async () => {
    const { identity } = await testIdentity();
    const user = await identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: 'first passphrase' });
    const signedIn = await identity.signIn({ email: 'ada@example.com', password: 'first passphrase' });
    if (signedIn.status !== 'authenticated') throw new Error('expected a session');
    expect((await failure(identity.users.changePassword(user.id, 'wrong passphrase', 'second passphrase'))).code).toBe('AUTH_INVALID_CREDENTIALS');
    await identity.users.changePassword(user.id, 'first passphrase', 'second passphrase');
    expect(await failure(identity.authenticate(signedIn.tokens.accessToken))).toMatchObject({ code: 'AUTH_TOKEN_INVALID', reason: 'revoked' });
    expect(await failure(identity.refresh(signedIn.tokens.refreshToken))).toMatchObject({ code: 'AUTH_TOKEN_INVALID' });
    expect((await failure(identity.signIn({ email: 'ada@example.com', password: 'first passphrase' }))).code).toBe('AUTH_INVALID_CREDENTIALS');
    await expect(identity.signIn({ email: 'ada@example.com', password: 'second passphrase' })).resolves.toMatchObject({ status: 'authenticated' });
    await identity.users.setPassword(user.id, 'reset by admin ok');
    await expect(identity.signIn({ email: 'ada@example.com', password: 'reset by admin ok' })).resolves.toMatchObject({ status: 'authenticated' });
    expect((await failure(identity.users.setPassword(user.id, 'short'))).code).toBe('VALIDATION_FAILED');
  });

  it('deleting a user revokes its sessions and tokens, frees its addresses and removes its MFA and wallets', async () => {
    const { identity, storage } = await testIdentity();
    const user = await identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: 'correct horse battery' });
    const a = await identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' });
    const b = await identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' });
    if (a.status !== 'authenticated' || b.status !== 'authenticated') throw new Error('expected sessions');
    await identity.wallets.create(user.id, { words: 12 });
    await identity.mfa.beginEnrollment(user.id);
    expect(await identity.sessions.list(user.id)).toHaveLength(2);
    await identity.users.delete(user.id);
    for (const tokens of [a.tokens, b.tokens]) {
      expect(await failure(identity.authenticate(tokens.accessToken))).toMatchObject({ code: 'AUTH_TOKEN_INVALID', reason: 'revoked' });
      expect((await failure(identity.refresh(tokens.refreshToken))).code).toBe('AUTH_TOKEN_INVALID');
    }
    expect(await identity.sessions.list(user.id)).toHaveLength(0);
    expect(await identity.wallets.list(user.id)).toHaveLength(0);
    expect(await storage.get('identity.mfa', user.id)).toBeNull();
    // The access token itself still has a valid signature: only authenticate() knows it is dead.
    await expect(identity.accessTokens.verify(a.tokens.accessToken)).resolves.toBeDefined();
  });

  it('suspending a user revokes its sessions and blocks sign-in', async () => {
    const { identity } = await testIdentity();
    const user = await identity.users.create({ email: 'ada@example.com', displayName: 'Ada', password: 'correct horse battery' });
    const s = await identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' });
    if (s.status !== 'authenticated') throw new Error('expected a session');
    await identity.users.update(user.id, { status: 'suspended' });
    expect(await failure(identity.authenticate(s.tokens.accessToken))).toMatchObject({ reason: 'revoked' });
    expect((await failure(identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' }))).code).toBe('ACCESS_DENIED');
    await identity.users.update(user.id, { status: 'active' });
    await expect(identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' })).resolves.toMatchObject({ status: 'authenticated' });
  });

  it('validates every entry point', async () => {
    const { identity } = await testIdentity();
    const cases: Promise<unknown>[] = [
      identity.users.create({ displayName: '' }),
      identity.users.get('bad id with spaces'),
      identity.users.update('x', {}),
      identity.users.findByEmail('not-an-email'),
      identity.users.setRoles('x', 'tenant id!', []),
      identity.users.list({ cursor: '' }),
    ];
    for (const c of cases) expect((await failure(c)).code).toBe('VALIDATION_FAILED');
  });
});
