import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { randomNonce } from '../../../src/security/internal/bytes.js';
import { AesKey, decryptText, verifyPassword } from '../../../src/security/primitives.js';

const primitives = fileURLToPath(new URL('../../../src/security/primitives.ts', import.meta.url));
const algorithms = fileURLToPath(new URL('../../../src/security/hash/algorithms.ts', import.meta.url));

describe('runtime selection', () => {
  it('falls back to WebCrypto and noble, with identical results, where node:crypto is unavailable (edge runtimes)', async () => {
    // A fresh process whose `process.getBuiltinModule` is gone, as on runtimes without node:crypto.
    const script = `
      process.getBuiltinModule = undefined;
      const s = await import(${JSON.stringify(primitives)});
      const { autoHashEngine } = await import(${JSON.stringify(algorithms)});
      const key = s.AesKey.fromBytes(new Uint8Array(32).fill(1));
      const envelope = await s.encrypt(key, 'edge');
      const stored = await s.hashPassword('pw', { algorithm: 'scrypt', scrypt: { logN: 10 } });
      console.log(JSON.stringify({
        engines: s.availableAesGcmEngines(),
        hash: autoHashEngine('SHA3-256'),
        text: await s.decryptText(key, envelope),
        envelope: Array.from(envelope),
        sha: Array.from(s.sha3_256('abc')),
        verified: await s.verifyPassword(stored, 'pw'),
        stored,
      }));`;
    const out = JSON.parse(execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], { encoding: 'utf8' })) as {
      engines: string[];
      hash: string;
      text: string;
      sha: number[];
      verified: boolean;
      envelope: number[];
      stored: string;
    };
    expect(out.engines).toEqual(['webcrypto', 'noble']);
    expect(out.hash).toBe('noble');
    expect(out.text).toBe('edge');
    expect(Buffer.from(out.sha).toString('hex')).toBe('3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532');
    expect(out.verified).toBe(true);
    // What the fallback engines produced opens here, on the node:crypto fast paths.
    const key = AesKey.fromBytes(new Uint8Array(32).fill(1));
    expect(await decryptText(key, new Uint8Array(out.envelope), { engine: 'node' })).toBe('edge');
    expect(await verifyPassword(out.stored, 'pw')).toBe(true);
  });

  it('hands out pooled nonces that never repeat and span pool refills', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 2000; i++) seen.add(Buffer.from(randomNonce(12)).toString('hex'));
    expect(seen.size).toBe(2000);
  });
});
