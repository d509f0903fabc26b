/**
 * Wycheproof AES-GCM (testvectors_v1/aes_gcm_test.json) through every engine this runtime has.
 *
 * What runs where:
 * - Every case goes through the engine functions (`seal`/`open`) that the envelope API calls,
 *   for every key size (128/192/256) and nonce size the engine supports. Cases whose nonce size
 *   an engine cannot take are skipped for that engine and counted (node:crypto takes 1–256-byte
 *   nonces, Node's WebCrypto 12–256, noble 8 and up).
 * - The high-level envelope API deliberately supports only AES-256 with 96-bit nonces, and it
 *   authenticates `header || AAD`, so a vector's tag cannot appear in an envelope verbatim. The
 *   256-bit/96-bit group is therefore also replayed through the envelope path: an envelope built
 *   around the vector's nonce must open (via `decrypt`) exactly when the engine opens it, and its
 *   ciphertext bytes must equal the vector's (GCM's CTR keystream does not depend on the AAD).
 * - valid: sealing yields exactly ct || tag and opening yields msg. invalid: opening is refused
 *   (or the engine refuses the parameters with VALIDATION_FAILED, e.g. a 0-bit nonce).
 *   acceptable: (none in this file) would be allowed either way, but if accepted the output must
 *   match — a policy checked by the same code path.
 */
import { describe, expect, it } from 'vitest';
import { aesGcmOpenRaw, aesGcmSealRaw } from '../../../src/security/cipher/raw.js';
import { availableAesGcmEngines, resolveAesGcmEngine, type AesGcmEngineName } from '../../../src/security/cipher/engines.js';
import { encodeHeader } from '../../../src/security/cipher/envelope.js';
import { KeyMaterial } from '../../../src/security/cipher/key-material.js';
import { concatBytes } from '../../../src/security/internal/bytes.js';
import { AesKey, decrypt } from '../../../src/security/primitives.js';
import { isFabricaError } from '../../../src/errors.js';
import { hex, loadVectors, Tally, toHex, type WycheproofFile, type WycheproofResult } from '../../support/vectors.js';

interface AeadTest {
  readonly tcId: number;
  readonly key: string;
  readonly iv: string;
  readonly aad: string;
  readonly msg: string;
  readonly ct: string;
  readonly tag: string;
  readonly result: WycheproofResult;
  readonly flags: readonly string[];
}
interface AeadGroup {
  readonly keySize: number;
  readonly ivSize: number;
  readonly tagSize: number;
  readonly tests: readonly AeadTest[];
}

const file = loadVectors<WycheproofFile<AeadGroup>>('wycheproof/aes_gcm_test.json');
const engines = availableAesGcmEngines();

async function refused(fn: () => Promise<Uint8Array | null>): Promise<boolean> {
  try {
    return (await fn()) === null;
  } catch (err) {
    if (isFabricaError(err) && err.code === 'VALIDATION_FAILED') return true;
    throw err;
  }
}

describe.skipIf(file === undefined)('Wycheproof AES-GCM', () => {
  it('has the expected file', () => {
    expect(file!.algorithm).toBe('AES-GCM');
    expect(file!.testGroups.reduce((n, g) => n + g.tests.length, 0)).toBe(file!.numberOfTests);
  });

  for (const name of ['node', 'webcrypto', 'noble'] as const satisfies readonly AesGcmEngineName[]) {
    it.skipIf(!engines.includes(name))(`engine ${name}: valid cases seal to exactly ct||tag and open to msg; invalid cases are refused`, async () => {
      const engine = resolveAesGcmEngine(name);
      const tally = new Tally(`aes_gcm_test.json via engine ${name}`);
      for (const group of file!.testGroups) {
        expect(group.tagSize).toBe(128);
        for (const t of group.tests) {
          const [key, iv, aad, msg] = [hex(t.key), hex(t.iv), hex(t.aad), hex(t.msg)];
          const sealed = concatBytes(hex(t.ct), hex(t.tag));
          const nonceOk = iv.length >= engine.nonceBytes.min && iv.length <= engine.nonceBytes.max;
          if (t.result === 'invalid') {
            expect(await refused(() => aesGcmOpenRaw(key, iv, sealed, aad, name)), `tcId ${t.tcId} must be refused`).toBe(true);
            tally.ran += 1;
            continue;
          }
          if (!nonceOk) {
            tally.skip(`${group.ivSize}-bit nonce not supported by engine ${name} (valid case)`);
            continue;
          }
          const out = await aesGcmSealRaw(key, iv, msg, aad, name);
          const opened = await aesGcmOpenRaw(key, iv, sealed, aad, name);
          if (t.result === 'acceptable') {
            if (opened !== null) expect(toHex(opened)).toBe(t.msg);
          } else {
            expect(toHex(out), `tcId ${t.tcId}`).toBe(t.ct + t.tag);
            expect(opened && toHex(opened), `tcId ${t.tcId}`).toBe(t.msg);
          }
          tally.ran += 1;
        }
      }
      tally.print();
      expect(tally.ran + tally.skippedTotal).toBe(file!.numberOfTests);
      // Every engine must cover at least the 96-bit groups of all key sizes.
      expect(tally.ran).toBeGreaterThanOrEqual(file!.testGroups.filter((g) => g.ivSize === 96).reduce((n, g) => n + g.tests.length, 0));
    });
  }

  it('replays the AES-256 / 96-bit groups through the envelope API (decrypt) on every engine', async () => {
    const tally = new Tally('aes_gcm_test.json via the envelope API');
    for (const group of file!.testGroups) {
      for (const t of group.tests) {
        if (group.keySize !== 256) {
          tally.skip('key size other than 256 bits: the envelope API only offers AES-256 (run above through the engines)');
          continue;
        }
        if (group.ivSize !== 96) {
          tally.skip('nonce size other than 96 bits: envelopes always use 96-bit nonces (run above through the engines)');
          continue;
        }
        const key = AesKey.fromBytes(hex(t.key), { id: 'wycheproof' });
        const header = encodeHeader('A256GCM', 'wycheproof', hex(t.iv));
        for (const name of engines) {
          if (t.result === 'invalid') {
            // The vector's forged tag placed in an envelope is refused by decrypt().
            const forged = concatBytes(header, hex(t.ct), hex(t.tag));
            await expect(decrypt(key, forged, { aad: hex(t.aad), engine: name })).rejects.toMatchObject({ code: 'CRYPTO_AUTH_FAILED' });
            continue;
          }
          // Seal the vector's message with the envelope's framing (AAD = header || vector AAD),
          // check the ciphertext bytes against the vector, and open it with the public decrypt().
          const engine = resolveAesGcmEngine(name);
          const sealed = await engine.seal(new KeyMaterial(hex(t.key)), hex(t.iv), hex(t.msg), concatBytes(header, hex(t.aad)), header.length);
          sealed.set(header, 0);
          expect(toHex(sealed.subarray(header.length, sealed.length - 16)), `tcId ${t.tcId}`).toBe(t.ct);
          expect(toHex(await decrypt(key, sealed, { aad: hex(t.aad), engine: name })), `tcId ${t.tcId}`).toBe(t.msg);
        }
        tally.ran += 1;
      }
    }
    tally.print();
    expect(tally.ran).toBe(file!.testGroups.filter((g) => g.keySize === 256 && g.ivSize === 96).reduce((n, g) => n + g.tests.length, 0));
  });
});
