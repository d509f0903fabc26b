/**
 * Demo section: the identity system on the memory backend — users, password + TOTP sign-in,
 * refresh rotation with theft detection, key rotation and JWKS, the strict verifier, HD wallets
 * and Sign-In with Ethereum. Tokens and secrets are printed truncated or not at all.
 */
import { Wallet, verifyMessage } from 'ethers';
import { createMemoryStorage } from '../src/adapters/memory/index.js';
import { ManualClock } from '../src/core/clock.js';
import { isFabricaError } from '../src/errors.js';
import { base32Decode, createIdentity, totp } from '../src/identity/index.js';
import { AesKey, Keyring } from '../src/security/index.js';
import { title } from './demo-support.js';

const short = (token: string): string => `${token.slice(0, 12)}…(${token.length} chars)`;
const codeOf = (err: unknown): string => (isFabricaError(err) ? `${err.code}${err.details?.reason ? ` (${String(err.details.reason)})` : ''}` : String(err));

export async function demoIdentity(): Promise<void> {
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 9, 0, 0));
  const storage = createMemoryStorage({ clock });
  const identity = await createIdentity({
    storage,
    keyring: new Keyring({ keys: [AesKey.generate({ id: 'identity-demo' })] }),
    clock,
    issuer: 'https://auth.fabrica.example',
    audience: 'https://api.fabrica.example',
    // Cheaper hashing than the argon2id defaults, so the demo stays snappy.
    password: { algorithm: 'argon2id', argon2id: { memoryKiB: 4096, iterations: 1 } },
    claims: (user) => ({ tier: user.tier }),
  });

  title('Users: unique e-mail, roles per tenant');
  const ada = await identity.users.create({ email: ' Ada@Example.COM ', displayName: 'Ada', password: 'correct horse battery', roles: { acme: ['admin'] }, tier: 2 });
  console.log(`created ${ada.displayName} <${ada.email}> tier ${ada.tier}, roles ${JSON.stringify(ada.roles)}`);
  const racers = await Promise.allSettled(Array.from({ length: 5 }, (_, i) => identity.users.create({ email: 'grace@example.com', displayName: `Grace ${i}` })));
  console.log(`5 concurrent sign-ups with one e-mail -> ${racers.filter((r) => r.status === 'fulfilled').length} created`);

  title('Sign-in: password, then TOTP');
  const plain = await identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' });
  console.log(`without MFA -> ${plain.status}`);
  const enrollment = await identity.mfa.beginEnrollment(ada.id);
  console.log(`otpauth URI for the authenticator app: ${enrollment.otpauthUri.replace(/secret=[A-Z2-7]+/, 'secret=…')}`);
  const key = base32Decode(enrollment.secret)!;
  const { recoveryCodes } = await identity.mfa.confirmEnrollment(ada.id, totp(key, clock.now()));
  console.log(`MFA enabled, ${recoveryCodes.length} recovery codes issued (stored hashed)`);
  clock.advance(30_000);
  const first = await identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' });
  if (first.status !== 'mfa_required') throw new Error('expected an MFA challenge');
  console.log(`password accepted -> ${first.status}; challenge ${short(first.challenge)}`);
  await identity.authenticate(first.challenge).catch((err) => console.log(`challenge used as access token -> ${codeOf(err)}`));
  const code = totp(key, clock.now());
  const done = await identity.completeSignIn({ challenge: first.challenge, code });
  const principal = await identity.authenticate(done.tokens.accessToken, { requireMfa: true });
  console.log(`TOTP accepted -> access ${short(done.tokens.accessToken)}, amr ${JSON.stringify(principal.amr)}, tier claim ${String(principal.claims.tier)}`);
  await identity.mfa.verify(ada.id, { code }).catch((err) => console.log(`same code again -> ${codeOf(err)}`));

  title('Refresh tokens: rotation and theft detection');
  const rotated = await identity.refresh(done.tokens.refreshToken);
  console.log(`refreshed: new refresh token ${short(rotated.refreshToken)}`);
  await identity.refresh(done.tokens.refreshToken).catch((err) => console.log(`old refresh token replayed -> ${codeOf(err)}`));
  await identity.authenticate(rotated.accessToken).catch((err) => console.log(`the whole session is gone -> ${codeOf(err)}`));

  title('Access-token keys: rotation and JWKS');
  const before = await identity.accessTokens.issue({ subject: ada.id });
  await identity.keys.rotate();
  const after = await identity.accessTokens.issue({ subject: ada.id });
  console.log(`JWKS now has ${identity.jwks().keys.length} ${identity.jwks().keys[0]!.alg} keys; statuses ${JSON.stringify(identity.keys.list().map((k) => k.status))}`);
  console.log(`old token still verifies: ${(await identity.accessTokens.verify(before.token)).kid === before.kid}; new one signed by the new key: ${after.kid !== before.kid}`);
  clock.advance(identity.keys.verifyForMs);
  await identity.accessTokens.verify(after.token).catch((err) => console.log(`after the retirement window, the new token has expired -> ${codeOf(err)}`));

  title('Strict verification');
  const fresh = (await identity.accessTokens.issue({ subject: ada.id })).token;
  const [fh, fp, fs] = fresh.split('.') as [string, string, string];
  const none = `${Buffer.from(JSON.stringify({ alg: 'none', typ: 'at+jwt' })).toString('base64url')}.${fp}.`;
  for (const [label, token] of [
    ['alg none', none],
    ['padded segment', `${fh}.${fp}=.${fs}`],
    ['space in signature', `${fh}.${fp}. ${fs}`],
    ['tampered payload', `${fh}.${Buffer.from(JSON.stringify({ sub: 'root' })).toString('base64url')}.${fs}`],
  ] as const) {
    await identity.accessTokens.verify(token).catch((err) => console.log(`${label.padEnd(20)} -> ${codeOf(err)}`));
  }

  title('HD wallet (BIP-39 / BIP-44 m/44\'/60\'/0\'/0/i)');
  const { wallet, mnemonic } = await identity.wallets.create(ada.id, { words: 24 });
  const second = await identity.wallets.deriveAccount(ada.id, wallet.id, 1);
  console.log(`wallet with a ${mnemonic.split(' ').length}-word mnemonic (encrypted at rest); accounts ${wallet.accounts[0]!.path} ${wallet.accounts[0]!.address}, ${second.path} ${second.address}`);
  const signed = await identity.wallets.signMessage(ada.id, wallet.id, 1, 'I approve job 42');
  console.log(`signature recovers to account 1: ${verifyMessage('I approve job 42', signed.signature) === second.address}`);

  title('Sign-In with Ethereum (EIP-4361)');
  const browserWallet = Wallet.createRandom();
  const { nonce } = await identity.siwe.issueNonce();
  const message = identity.siwe.createMessage({ address: browserWallet.address, nonce, statement: 'Sign in to Digital Fabrica' });
  console.log(message.split('\n').slice(0, 2).join(' / '));
  const signature = await browserWallet.signMessage(message);
  const siwe = await identity.signInWithEthereum({ message, signature });
  console.log(`signed in -> ${siwe.status}${siwe.status === 'authenticated' ? `, new user ${siwe.user.displayName}` : ''}`);
  await identity.signInWithEthereum({ message, signature }).catch((err) => console.log(`same message again -> ${codeOf(err)}`));

  title('Deleting a user revokes everything');
  const challenge = await identity.signIn({ email: 'ada@example.com', password: 'correct horse battery' });
  if (challenge.status !== 'mfa_required') throw new Error('expected an MFA challenge');
  const again = await identity.completeSignIn({ challenge: challenge.challenge, recoveryCode: recoveryCodes[0]! });
  console.log(`signed in with a recovery code (${(await identity.mfa.status(ada.id)).recoveryCodesRemaining} left)`);
  await identity.users.delete(ada.id);
  await identity.authenticate(again.tokens.accessToken).catch((err) => console.log(`access token after deletion -> ${codeOf(err)}`));
  console.log(`wallets left: ${(await identity.wallets.list(ada.id)).length}`);
}

// `npx tsx examples/demo-identity.ts` runs this section alone.
if (import.meta.url === `file://${process.argv[1]}`) await demoIdentity();
