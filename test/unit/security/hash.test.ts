import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { digestWith, hmacWith, type HashAlgorithm, type HashEngineName } from '../../../src/security/hash/algorithms.js';
import { constantTimeEqual, digest, hkdf, hmac, sha3_256, sha3_384, sha3_512, verifyHmac } from '../../../src/security/primitives.js';
import { utf8 } from '../../../src/security/internal/bytes.js';
import { expectCode } from './support/errors.js';
import { hex, loadVectors, Tally, toHex, type WycheproofFile, type WycheproofResult } from '../../support/vectors.js';

const ENGINES: readonly HashEngineName[] = ['node', 'noble'];

// Published answers: FIPS 202 example values (NIST CSRC "SHA3-256/384/512" examples for "abc",
// the empty string and the 448-bit message) and the classic one million 'a' test.
const NIST = {
  'SHA3-256': {
    '': 'a7ffc6f8bf1ed76651c14756a061d662f580ff4de43b49fa82d80a4b80f8434a',
    abc: '3a985da74fe225b2045c172d6bd390bd855f086e3e9d525b46bfe24511431532',
    abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq: '41c0dba2a9d6240849100376a8235e2c82e1b9998a999e21db32dd97496d3376',
    million: '5c8875ae474a3634ba4fd55ec85bffd661f32aca75c6d699d0cdcb6c115891c1',
  },
  'SHA3-384': {
    '': '0c63a75b845e4f7d01107d852e4c2485c51a50aaaa94fc61995e71bbee983a2ac3713831264adb47fb6bd1e058d5f004',
    abc: 'ec01498288516fc926459f58e2c6ad8df9b473cb0fc08c2596da7cf0e49be4b298d88cea927ac7f539f1edf228376d25',
    abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq: '991c665755eb3a4b6bbdfb75c78a492e8c56a22c5c4d7e429bfdbc32b9d4ad5aa04a1f076e62fea19eef51acd0657c22',
    million: 'eee9e24d78c1855337983451df97c8ad9eedf256c6334f8e948d252d5e0e76847aa0774ddb90a842190d2c558b4b8340',
  },
  'SHA3-512': {
    '': 'a69f73cca23a9ac5c8b567dc185a756e97c982164fe25859e0d1dcc1475c80a615b2123af1f5f94c11e3e9402c3ac558f500199d95b6d3e301758586281dcd26',
    abc: 'b751850b1a57168a5693cd924b6b096e08f621827444f70d884f5d0240d2712e10e116e9192af3c91a7ec57647e3934057340b4cf408d5a56592f8274eec53f0',
    abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq:
      '04a371e84ecfb5b8b77cb48610fca8182dd457ce6f326a0fd3d7ec2f1e91636dee691fbe0c985302ba1b0d8dc78c086346b533b49c030d99a27daf1139d6e75e',
    million: '3c3a876da14034ab60627c077bb98f7e120a2a5370212dffb3385a18d4f38859ed311d0a9d5141ce9cc5c66ee689b266a8aa18ace8282a0e0db596c90b0a7b87',
  },
} as const;

describe('SHA-3 against published NIST answers', () => {
  const million = 'a'.repeat(1_000_000);
  for (const [algorithm, answers] of Object.entries(NIST) as [HashAlgorithm, Record<string, string>][]) {
    it(`${algorithm}: "", "abc", the 448-bit message and 1,000,000 × 'a', on both engines and the public API`, () => {
      for (const [message, expected] of Object.entries(answers)) {
        const input = message === 'million' ? million : message;
        for (const engine of ENGINES) expect(toHex(digestWith(engine, algorithm, utf8(input))), `${engine} ${message.slice(0, 10)}`).toBe(expected);
        expect(toHex(digest(algorithm, input))).toBe(expected);
      }
    });
  }

  it('offers sha3_256/384/512 shortcuts over text and bytes', () => {
    expect(toHex(sha3_256('abc'))).toBe(NIST['SHA3-256'].abc);
    expect(toHex(sha3_384(utf8('abc')))).toBe(NIST['SHA3-384'].abc);
    expect(toHex(sha3_512('abc'))).toBe(NIST['SHA3-512'].abc);
    expect(toHex(digest('SHA-256', 'abc'))).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
  });

  it('property: node and noble agree on every algorithm for random input', () => {
    fc.assert(
      fc.property(fc.constantFrom<HashAlgorithm>('SHA3-256', 'SHA3-384', 'SHA3-512', 'SHA-256', 'SHA-384', 'SHA-512'), fc.uint8Array({ maxLength: 600 }), (alg, data) => {
        expect(toHex(digestWith('node', alg, data))).toBe(toHex(digestWith('noble', alg, data)));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects bad input with VALIDATION_FAILED', async () => {
    await expectCode(() => digest('MD5' as never, 'x'), 'VALIDATION_FAILED');
    await expectCode(() => sha3_256(123 as never), 'VALIDATION_FAILED');
    await expectCode(() => sha3_256('\uDC00'), 'VALIDATION_FAILED');
  });
});

interface MacTest {
  readonly tcId: number;
  readonly key: string;
  readonly msg: string;
  readonly tag: string;
  readonly result: WycheproofResult;
}
interface MacGroup {
  readonly keySize: number;
  readonly tagSize: number;
  readonly tests: readonly MacTest[];
}
const macFile = loadVectors<WycheproofFile<MacGroup>>('wycheproof/hmac_sha3_256_test.json');

describe.skipIf(macFile === undefined)('Wycheproof HMAC-SHA3-256', () => {
  it('computes every valid tag (truncated to the group tag size) and refuses every invalid one, on both engines', () => {
    const tally = new Tally('hmac_sha3_256_test.json');
    for (const group of macFile!.testGroups) {
      for (const t of group.tests) {
        const [key, msg, tag] = [hex(t.key), hex(t.msg), hex(t.tag)];
        expect(tag.length * 8).toBe(group.tagSize);
        for (const engine of ENGINES) {
          const full = hmacWith(engine, 'SHA3-256', key, msg);
          const matches = toHex(full.subarray(0, group.tagSize / 8)) === t.tag;
          expect(matches, `tcId ${t.tcId} (${engine})`).toBe(t.result === 'valid');
        }
        expect(verifyHmac('SHA3-256', key, msg, tag), `tcId ${t.tcId}`).toBe(t.result === 'valid');
        if (group.tagSize === 256) expect(toHex(hmac('SHA3-256', key, msg)) === t.tag).toBe(t.result === 'valid');
        tally.ran += 1;
      }
    }
    tally.print();
    expect(tally.ran).toBe(macFile!.numberOfTests);
  });
});

describe('HMAC', () => {
  const key = new Uint8Array(32).fill(1);

  it('verifies full and truncated tags down to 16 bytes, and nothing shorter or longer', () => {
    const tag = hmac('SHA3-512', key, 'data');
    expect(tag.length).toBe(64);
    expect(verifyHmac('SHA3-512', key, 'data', tag)).toBe(true);
    expect(verifyHmac('SHA3-512', key, 'data', tag.subarray(0, 16))).toBe(true);
    expect(verifyHmac('SHA3-512', key, 'data', tag.subarray(0, 15))).toBe(false);
    expect(verifyHmac('SHA3-512', key, 'data', new Uint8Array([...tag, 0]))).toBe(false);
    expect(verifyHmac('SHA3-512', key, 'datA', tag)).toBe(false);
  });

  it('property: node and noble HMACs agree', () => {
    fc.assert(
      fc.property(fc.constantFrom<HashAlgorithm>('SHA3-256', 'SHA3-384', 'SHA3-512', 'SHA-256'), fc.uint8Array({ minLength: 16, maxLength: 200 }), fc.uint8Array({ maxLength: 300 }), (alg, k, data) => {
        expect(toHex(hmacWith('node', alg, k, data))).toBe(toHex(hmacWith('noble', alg, k, data)));
      }),
      { numRuns: 150 },
    );
  });

  it('refuses keys shorter than 16 bytes and wrong types with VALIDATION_FAILED', async () => {
    await expectCode(() => hmac('SHA3-256', new Uint8Array(15), 'x'), 'VALIDATION_FAILED');
    await expectCode(() => hmac('SHA3-256', 'password' as never, 'x'), 'VALIDATION_FAILED');
    await expectCode(() => verifyHmac('SHA3-256', key, 'x', 'tag' as never), 'VALIDATION_FAILED');
  });
});

interface HkdfTest {
  readonly tcId: number;
  readonly ikm: string;
  readonly salt: string;
  readonly info: string;
  readonly size: number;
  readonly okm: string;
  readonly result: WycheproofResult;
}
const hkdfFile = loadVectors<WycheproofFile<{ readonly tests: readonly HkdfTest[] }>>('wycheproof/hkdf_sha256_test.json');

describe.skipIf(hkdfFile === undefined)('Wycheproof HKDF-SHA-256', () => {
  it('derives every valid okm and refuses every invalid size with VALIDATION_FAILED', async () => {
    const tally = new Tally('hkdf_sha256_test.json');
    for (const group of hkdfFile!.testGroups) {
      for (const t of group.tests) {
        const run = () => hkdf('SHA-256', hex(t.ikm), { salt: hex(t.salt), info: hex(t.info), length: t.size });
        if (t.result === 'invalid') await expectCode(run, 'VALIDATION_FAILED');
        else expect(toHex(run()), `tcId ${t.tcId}`).toBe(t.okm);
        tally.ran += 1;
      }
    }
    tally.print();
    expect(tally.ran).toBe(hkdfFile!.numberOfTests);
  });
});

describe('HKDF', () => {
  it('works over SHA-3 with the RFC 5869 length bound (255 × HashLen)', async () => {
    const ikm = new Uint8Array(32).fill(9);
    expect(hkdf('SHA3-256', ikm, { length: 255 * 32 }).length).toBe(8160);
    expect(toHex(hkdf('SHA3-256', ikm, { info: 'a', length: 32 }))).not.toBe(toHex(hkdf('SHA3-256', ikm, { info: 'b', length: 32 })));
    // An empty salt equals HashLen zero bytes (RFC 5869 §2.2).
    expect(toHex(hkdf('SHA3-256', ikm, { salt: new Uint8Array(0), length: 16 }))).toBe(toHex(hkdf('SHA3-256', ikm, { salt: new Uint8Array(32), length: 16 })));
    await expectCode(() => hkdf('SHA3-256', ikm, { length: 255 * 32 + 1 }), 'VALIDATION_FAILED');
    await expectCode(() => hkdf('SHA3-256', ikm, { length: 0 }), 'VALIDATION_FAILED');
    await expectCode(() => hkdf('SHA3-256', new Uint8Array(8), { length: 32 }), 'VALIDATION_FAILED');
    await expectCode(() => hkdf('SHA3-256', ikm, {} as never), 'VALIDATION_FAILED');
  });
});

describe('constantTimeEqual', () => {
  it('property: agrees with ordinary equality', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.uint8Array({ maxLength: 40 }), fc.boolean(), (a, b, same) => {
        const other = same ? a.slice() : b;
        expect(constantTimeEqual(a, other)).toBe(toHex(a) === toHex(other));
      }),
    );
  });

  it('rejects non-bytes with VALIDATION_FAILED', async () => {
    await expectCode(() => constantTimeEqual('a' as never, new Uint8Array(1)), 'VALIDATION_FAILED');
  });
});
