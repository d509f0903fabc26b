/** Demo section: the spec's encryption system (AES-256-GCM, RSA-4096-OAEP, SHA-3, password hashing). */
import { isFabricaError } from '../src/errors.js';
import { createMemoryStorage } from '../src/adapters/memory/index.js';
import {
  AesKey,
  Keyring,
  createDecryptStream,
  createEncryptStream,
  decryptText,
  encrypt,
  generateRsaKeyPair,
  hashPassword,
  hybridDecryptText,
  hybridEncrypt,
  needsRehash,
  readEnvelopeHeader,
  sha3_256,
  verifyPassword,
} from '../src/security/index.js';
import { title } from './demo-support.js';

const hex = (bytes: Uint8Array): string => Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');

export async function demoSecurity(): Promise<void> {
  title('AES-256-GCM envelopes');
  const key = AesKey.generate({ id: 'cards-2026' });
  const envelope = await encrypt(key, '4242 4242 4242 4242', { aad: 'user:7' });
  console.log(`envelope header: ${JSON.stringify(readEnvelopeHeader(envelope))}`);
  console.log(`opened with the right AAD: ${await decryptText(key, envelope, { aad: 'user:7' })}`);
  const tampered = envelope.slice();
  tampered[tampered.length - 1]! ^= 1;
  try {
    await decryptText(key, tampered, { aad: 'user:7' });
  } catch (err) {
    if (isFabricaError(err)) console.log(`one flipped bit: ${err.code}`);
  }

  title('Keyring rotation with a per-key message budget');
  const keyring = new Keyring({ keys: [AesKey.generate({ id: 'k1' })], storage: createMemoryStorage(), name: 'demo', maxMessagesPerKey: 3, onLimit: 'refuse' });
  const old = await keyring.encrypt('sealed under k1');
  await keyring.encrypt('2');
  await keyring.encrypt('3');
  try {
    await keyring.encrypt('4');
  } catch (err) {
    if (isFabricaError(err)) console.log(`4th message under a 3-message key: ${err.code}`);
  }
  await keyring.rotate({ id: 'k2' });
  const moved = await keyring.reencrypt(old);
  console.log(`rotated to k2; re-encrypted envelope now names key ${readEnvelopeHeader(moved).keyId}`);

  title('Streaming encryption (64 KiB segments)');
  const body = new Uint8Array(300 * 1024).fill(42);
  const sealed = await new Response(new Blob([body]).stream().pipeThrough(createEncryptStream(key))).arrayBuffer();
  const opened = await new Response(new Blob([sealed]).stream().pipeThrough(createDecryptStream(key))).arrayBuffer();
  console.log(`${body.byteLength} bytes -> ${sealed.byteLength} sealed -> ${opened.byteLength} opened`);

  title('RSA-OAEP hybrid encryption');
  const { publicKey, privateKey } = await generateRsaKeyPair({ modulusLength: 2048 }); // 4096 is the default; 2048 keeps the demo quick
  const report = await hybridEncrypt(publicKey, 'quarterly report'.repeat(1000), { aad: 'report:17' });
  console.log(`hybrid envelope of ${report.byteLength} bytes opens: ${(await hybridDecryptText(privateKey, report, { aad: 'report:17' })).length} chars`);

  title('SHA-3 and password hashing');
  console.log(`SHA3-256("abc") = ${hex(sha3_256('abc'))}`);
  const stored = await hashPassword('correct horse battery staple');
  console.log(`argon2id PHC string: ${stored.slice(0, stored.indexOf('$', 30))}$…`);
  console.log(`verify right/wrong: ${await verifyPassword(stored, 'correct horse battery staple')}/${await verifyPassword(stored, 'Tr0ub4dor&3')}; needs rehash: ${needsRehash(stored)}`);
}
