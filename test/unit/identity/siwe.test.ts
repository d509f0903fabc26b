import { Wallet } from 'ethers';
import { beforeEach, describe, expect, it } from 'vitest';
import { base32Decode, buildSiweMessage, parseSiweMessage, totp, type SiweMessage } from '../../../src/identity/index.js';
import { failure, T0, testIdentity, type TestIdentity } from './support/identity.js';

const ADDRESS = '0x9858EfFD232B4033E47d90003D41EC34EcaEda94';
const FULL: SiweMessage = {
  scheme: 'https',
  domain: 'app.example.com:8443',
  address: ADDRESS,
  statement: "I accept the Terms of Service: https://app.example.com/tos (v2, 'final')",
  uri: 'https://app.example.com:8443/login',
  version: '1',
  chainId: 137,
  nonce: 'a1B2c3D4e5F6g7H8',
  issuedAt: '2025-06-15T14:13:20.000Z',
  expirationTime: '2025-06-15T14:23:20Z',
  notBefore: '2025-06-15T14:13:00+00:00',
  requestId: 'req-42',
  resources: ['ipfs://bafybeiemxf5abjwjbikoz4mc3a3dla6ual3jsgpdr4cjr3oz3evfyavhwq/', 'https://example.com/my-web2-claim.json'],
};

describe('EIP-4361 messages', () => {
  it('renders the EIP layout and parses it back, with and without optional fields', () => {
    const text = buildSiweMessage(FULL);
    expect(text).toBe(
      [
        'https://app.example.com:8443 wants you to sign in with your Ethereum account:',
        ADDRESS,
        '',
        FULL.statement,
        '',
        'URI: https://app.example.com:8443/login',
        'Version: 1',
        'Chain ID: 137',
        'Nonce: a1B2c3D4e5F6g7H8',
        'Issued At: 2025-06-15T14:13:20.000Z',
        'Expiration Time: 2025-06-15T14:23:20Z',
        'Not Before: 2025-06-15T14:13:00+00:00',
        'Request ID: req-42',
        'Resources:',
        `- ${FULL.resources![0]}`,
        `- ${FULL.resources![1]}`,
      ].join('\n'),
    );
    expect(parseSiweMessage(text)).toEqual(FULL);
    const minimal: SiweMessage = { domain: 'example.com', address: ADDRESS, uri: 'https://example.com', version: '1', chainId: 1, nonce: '12345678', issuedAt: '2025-06-15T14:13:20Z' };
    const minimalText = buildSiweMessage(minimal);
    expect(minimalText.split('\n').slice(0, 4)).toEqual(['example.com wants you to sign in with your Ethereum account:', ADDRESS, '', '']);
    expect(parseSiweMessage(minimalText)).toEqual(minimal);
  });

  it('rejects anything outside the grammar as malformed', async () => {
    const good = buildSiweMessage(FULL);
    const variants = [
      good.replaceAll('\n', '\r\n'),
      `${good}\n`,
      `${good}\nExtra: field`,
      good.replace(ADDRESS, ADDRESS.toLowerCase()),
      good.replace(ADDRESS, ADDRESS.replace('E', 'e')),
      good.replace('Chain ID: 137', 'Chain ID: 0x89'),
      good.replace('Nonce: a1B2c3D4e5F6g7H8', 'Nonce: short'),
      good.replace('Issued At: 2025-06-15T14:13:20.000Z', 'Issued At: yesterday'),
      good.replace('URI: https://app.example.com:8443/login\nVersion: 1', 'Version: 1\nURI: https://app.example.com:8443/login'),
      good.replace(' wants you to sign in', ' wants you to log in'),
      good.replace('app.example.com:8443 wants', 'user@app.example.com:8443 wants'),
      good.replace(FULL.statement!, `${FULL.statement}\nsecond line`),
      good.replace(FULL.statement!, 'quotes " are not allowed'),
      '',
    ];
    for (const text of variants) expect((await failure(() => parseSiweMessage(text))).reason, JSON.stringify(text.slice(0, 60))).toBe('malformed');
    expect((await failure(() => parseSiweMessage(good.replace('Version: 1', 'Version: 2')))).reason).toBe('version');
  });

  it('validates fields when building', async () => {
    expect((await failure(() => buildSiweMessage({ ...FULL, statement: 'a\nb' }))).code).toBe('VALIDATION_FAILED');
    expect((await failure(() => buildSiweMessage({ ...FULL, address: ADDRESS.toLowerCase() }))).code).toBe('VALIDATION_FAILED');
    expect((await failure(() => buildSiweMessage({ ...FULL, nonce: 'abc' }))).code).toBe('VALIDATION_FAILED');
  });
});

describe('Sign-In with Ethereum verification', () => {
  let t: TestIdentity;
  let wallet: ReturnType<typeof Wallet.createRandom>;

  beforeEach(async () => {
    t = await testIdentity({ siwe: { domain: 'app.example.com', uris: ['https://app.example.com'], chainIds: [1, 10] } });
    wallet = Wallet.createRandom();
  });

  async function signed(overrides: Partial<SiweMessage> = {}): Promise<{ message: string; signature: string; nonce: string }> {
    const { nonce } = await t.identity.siwe.issueNonce();
    const fields: SiweMessage = {
      domain: 'app.example.com',
      address: wallet.address,
      uri: 'https://app.example.com/login',
      version: '1',
      chainId: 1,
      nonce,
      issuedAt: new Date(t.clock.now()).toISOString(),
      ...overrides,
    };
    const message = buildSiweMessage(fields);
    return { message, signature: await wallet.signMessage(message), nonce: fields.nonce };
  }

  it('accepts a correct message once; a replay fails on the nonce', async () => {
    const input = await signed();
    await expect(t.identity.siwe.verify(input)).resolves.toMatchObject({ address: wallet.address });
    expect(await failure(t.identity.siwe.verify(input))).toMatchObject({ code: 'AUTH_SIWE_INVALID', reason: 'nonce' });
  });

  it('rejects wrong domain, scheme, URI and chain with typed reasons', async () => {
    expect((await failure(t.identity.siwe.verify(await signed({ domain: 'evil.example.com' }))))).toMatchObject({ code: 'AUTH_SIWE_INVALID', reason: 'domain' });
    expect((await failure(t.identity.siwe.verify(await signed({ domain: 'app.example.com:444' }))))).toMatchObject({ reason: 'domain' });
    expect((await failure(t.identity.siwe.verify(await signed({ scheme: 'http' }))))).toMatchObject({ reason: 'domain' });
    expect((await failure(t.identity.siwe.verify(await signed({ uri: 'https://app.example.com.evil.io/login' }))))).toMatchObject({ reason: 'uri' });
    expect((await failure(t.identity.siwe.verify(await signed({ chainId: 137 }))))).toMatchObject({ reason: 'chain' });
    await expect(t.identity.siwe.verify(await signed({ chainId: 10, scheme: 'https' }))).resolves.toBeDefined();
  });

  it('enforces the time bounds with the injected clock', async () => {
    const iso = (ms: number): string => new Date(ms).toISOString();
    const now = t.clock.now();
    expect(await failure(t.identity.siwe.verify(await signed({ expirationTime: iso(now - 60_000) })))).toMatchObject({ reason: 'expired' });
    expect(await failure(t.identity.siwe.verify(await signed({ issuedAt: iso(now - 3_600_000) })))).toMatchObject({ reason: 'expired' });
    expect(await failure(t.identity.siwe.verify(await signed({ issuedAt: iso(now + 3_600_000) })))).toMatchObject({ reason: 'issued_in_future' });
    expect(await failure(t.identity.siwe.verify(await signed({ notBefore: iso(now + 3_600_000) })))).toMatchObject({ reason: 'not_yet_valid' });
    await expect(t.identity.siwe.verify(await signed({ expirationTime: iso(now + 60_000), notBefore: iso(now - 1_000) }))).resolves.toBeDefined();
    // A nonce expires: sign now, verify after its lifetime.
    const late = await signed();
    t.clock.advance(5 * 60_000 + 1);
    const err = await failure(t.identity.siwe.verify(late));
    expect(['nonce', 'expired']).toContain(err.reason);
  });

  it('rejects nonces it never issued, a nonce other than the expected one, and signatures by another key', async () => {
    expect(await failure(t.identity.siwe.verify(await signed({ nonce: 'NeverIssued12345' })))).toMatchObject({ reason: 'nonce' });
    const input = await signed();
    expect(await failure(t.identity.siwe.verify({ ...input, nonce: 'SomethingElse123' }))).toMatchObject({ reason: 'nonce' });
    await expect(t.identity.siwe.verify({ ...input, nonce: input.nonce })).resolves.toBeDefined();
    const forged = await signed();
    const other = Wallet.createRandom();
    expect(await failure(t.identity.siwe.verify({ ...forged, signature: await other.signMessage(forged.message) }))).toMatchObject({ reason: 'signature' });
    // A bad signature does not burn the nonce: the real signature still works.
    await expect(t.identity.siwe.verify(forged)).resolves.toBeDefined();
    expect((await failure(t.identity.siwe.verify({ ...input, signature: '0x1234' }))).code).toBe('VALIDATION_FAILED');
  });

  it('lets exactly one of many concurrent verifications of one message through', async () => {
    const input = await signed();
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => t.identity.siwe.verify(input)));
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  });

  it('signs in: the first time creates a user, later the same user; linking and taken addresses', async () => {
    const first = await t.identity.signInWithEthereum(await signed());
    expect(first.status).toBe('authenticated');
    if (first.status !== 'authenticated') return;
    expect(first.user).toMatchObject({ email: null, addresses: [wallet.address], hasPassword: false });
    expect((await t.identity.authenticate(first.tokens.accessToken)).amr).toEqual(['swk']);
    const again = await t.identity.signInWithEthereum(await signed());
    expect(again.status === 'authenticated' && again.user.id).toBe(first.user.id);

    const ada = await t.identity.users.create({ email: 'ada@example.com', displayName: 'Ada' });
    const adaWallet = Wallet.createRandom();
    const original = wallet;
    wallet = adaWallet;
    const linked = await t.identity.linkEthereumAddress(ada.id, await signed());
    expect(linked.addresses).toEqual([adaWallet.address]);
    const viaWallet = await t.identity.signInWithEthereum(await signed());
    expect(viaWallet.status === 'authenticated' && viaWallet.user.id).toBe(ada.id);
    wallet = original;
    expect(await failure(t.identity.linkEthereumAddress(ada.id, await signed()))).toMatchObject({ code: 'AUTH_SIWE_INVALID', reason: 'address_taken' });
  });

  it('asks users with MFA for their second factor', async () => {
    const first = await t.identity.signInWithEthereum(await signed());
    if (first.status !== 'authenticated') throw new Error('expected a session');
    const { secret } = await t.identity.mfa.beginEnrollment(first.user.id);
    await t.identity.mfa.confirmEnrollment(first.user.id, totp(base32Decode(secret)!, t.clock.now()));
    t.clock.advance(30_000);
    const second = await t.identity.signInWithEthereum(await signed());
    expect(second.status).toBe('mfa_required');
    if (second.status !== 'mfa_required') return;
    const done = await t.identity.completeSignIn({ challenge: second.challenge, code: totp(base32Decode(secret)!, t.clock.now()) });
    expect((await t.identity.authenticate(done.tokens.accessToken)).amr).toEqual(['swk', 'otp', 'mfa']);
  });

  it('derives its defaults from an https issuer and refuses to run unconfigured', async () => {
    const derived = await testIdentity({ issuer: 'https://auth.example.org' });
    expect(derived.identity.siwe.policy).toMatchObject({ domain: 'auth.example.org', uris: ['https://auth.example.org'], chainIds: [1] });
    const none = await testIdentity({ issuer: 'urn:example:issuer' });
    expect((await failure(none.identity.siwe.issueNonce())).code).toBe('VALIDATION_FAILED');
    expect(T0).toBeGreaterThan(0);
  });
});
