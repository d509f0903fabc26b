import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { derivePbkdf2, deriveScrypt } from '../../../src/security/password/kdf.js';
import { hashPassword, needsRehash, PASSWORD_DEFAULTS, verifyPassword } from '../../../src/security/primitives.js';
import { utf8 } from '../../../src/security/internal/bytes.js';
import { expectCode } from './support/errors.js';
import { hex, loadVectors, Tally, toHex, type WycheproofFile, type WycheproofResult } from '../../support/vectors.js';

// Cheap policies for the many tests that do not care about cost; the defaults run once each.
const FAST = {
  argon2id: { algorithm: 'argon2id', argon2id: { memoryKiB: 1024, iterations: 1 } },
  scrypt: { algorithm: 'scrypt', scrypt: { logN: 10 } },
  pbkdf2: { algorithm: 'pbkdf2-sha3-256', pbkdf2: { iterations: 10_000 } },
} as const;

/**
 * Known answers from other implementations, so our PHC strings interoperate:
 * - argon2id: the reference implementation (libargon2 20190702, argon2id_hash_encoded);
 * - pbkdf2-sha3-256 and scrypt: Python's hashlib (OpenSSL), written in our PHC layout.
 */
const KNOWN = [
  ['correct horse battery staple', '$argon2id$v=19$m=19456,t=2,p=1$MDEyMzQ1Njc4OWFiY2RlZg$gy5SuVm5Z7Vw7keB9se9p87QGcomaseB/S2U1OhTsM0'],
  ['pässwörd', '$argon2id$v=19$m=1024,t=1,p=2$c2FsdHNhbHRzYWx0c2FsdA$58FUyPFHjY90W549kZW1IK7+psi/xDEzFdW9OwLKVWs'],
  ['correct horse battery staple', '$pbkdf2-sha3-256$i=10000$MDEyMzQ1Njc4OWFiY2RlZg$y96zUJR8wT83tcWB+ryFMbEidao+v3AISixl3GH4Xmg'],
  ['correct horse battery staple', '$scrypt$ln=10,r=8,p=1$MDEyMzQ1Njc4OWFiY2RlZg$7AnzIswxwEinpwz+ntydndYfVHPvOACmX9Vvo8hO1qM'],
] as const;

describe('password hashing at the default (OWASP) parameters', () => {
  it('hashes with argon2id m=19456 t=2 p=1 by default, verifies the right password and refuses a wrong one', async () => {
    const stored = await hashPassword('correct horse battery staple');
    expect(stored).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword(stored, 'correct horse battery staple')).toBe(true);
    expect(await verifyPassword(stored, 'correct horse battery stapler')).toBe(false);
    expect(needsRehash(stored)).toBe(false);
  });

  it('hashes with scrypt N=2^17 r=8 p=1', async () => {
    const stored = await hashPassword('pw for scrypt', { algorithm: 'scrypt' });
    expect(stored).toMatch(/^\$scrypt\$ln=17,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword(stored, 'pw for scrypt')).toBe(true);
  });

  it('hashes with PBKDF2-HMAC-SHA3-256 at 600 000 iterations', async () => {
    const stored = await hashPassword('pw for pbkdf2', { algorithm: 'pbkdf2-sha3-256' });
    expect(stored).toMatch(/^\$pbkdf2-sha3-256\$i=600000\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    expect(await verifyPassword(stored, 'pw for pbkdf2')).toBe(true);
    expect(PASSWORD_DEFAULTS.pbkdf2.iterations).toBe(600_000);
  });
});

describe('password hashing', () => {
  it('verifies hashes made by other implementations (libargon2, OpenSSL)', async () => {
    for (const [password, stored] of KNOWN) {
      expect(await verifyPassword(stored, password), stored).toBe(true);
      expect(await verifyPassword(stored, `${password}!`), stored).toBe(false);
    }
  });

  it('normalises text to NFKC, so composed and decomposed accents verify alike; bytes are taken as is', async () => {
    const stored = KNOWN[1][1];
    expect(await verifyPassword(stored, 'pa\u0308sswo\u0308rd')).toBe(true);
    expect(await verifyPassword(stored, utf8('pässwörd'))).toBe(true);
    expect(await verifyPassword(stored, utf8('pa\u0308sswo\u0308rd'))).toBe(false);
  });

  it('property: every algorithm round-trips arbitrary passwords with fresh salts', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ minLength: 1, maxLength: 40 }), fc.constantFrom(...Object.values(FAST)), async (password, policy) => {
        fc.pre(password.isWellFormed());
        const a = await hashPassword(password, policy);
        const b = await hashPassword(password, policy);
        expect(a).not.toBe(b);
        expect(await verifyPassword(a, password)).toBe(true);
        expect(await verifyPassword(b, `${password}x`)).toBe(false);
      }),
      { numRuns: 15 },
    );
  });

  it('property: scrypt and PBKDF2-HMAC-SHA3-256 give the same bytes on node:crypto and noble', async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 64 }), fc.uint8Array({ minLength: 8, maxLength: 32 }), async (password, salt) => {
        const scryptNode = await deriveScrypt(password, salt, { logN: 8, r: 4, p: 2 }, 32, 'node');
        const scryptNoble = await deriveScrypt(password, salt, { logN: 8, r: 4, p: 2 }, 32, 'noble');
        expect(toHex(scryptNode)).toBe(toHex(scryptNoble));
        const pbkdfNode = await derivePbkdf2('SHA3-256', password, salt, 50, 32, 'node');
        const pbkdfNoble = await derivePbkdf2('SHA3-256', password, salt, 50, 32, 'noble');
        expect(toHex(pbkdfNode)).toBe(toHex(pbkdfNoble));
      }),
      { numRuns: 25 },
    );
  });

  it('computes the RFC 7914 §12 scrypt test vectors on both engines', async () => {
    const vectors = [
      ['password', 'NaCl', 10, 8, 16, 'fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b3731622eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640'],
      ['pleaseletmein', 'SodiumChloride', 14, 8, 1, '7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887'],
    ] as const;
    for (const [password, salt, logN, r, p, expected] of vectors) {
      for (const engine of ['node', 'noble'] as const) {
        expect(toHex(await deriveScrypt(utf8(password), utf8(salt), { logN, r, p }, 64, engine))).toBe(expected);
      }
    }
  });

  it('says when a stored hash needs rehashing: other algorithm, other cost, short salt', async () => {
    const argon = await hashPassword('pw', FAST.argon2id);
    expect(needsRehash(argon, FAST.argon2id)).toBe(false);
    expect(needsRehash(argon)).toBe(true); // default memory is 19 MiB
    expect(needsRehash(argon, { ...FAST.argon2id, argon2id: { ...FAST.argon2id.argon2id, iterations: 2 } })).toBe(true);
    expect(needsRehash(argon, FAST.scrypt)).toBe(true);
    const pbkdf2 = await hashPassword('pw', FAST.pbkdf2);
    expect(needsRehash(pbkdf2, FAST.pbkdf2)).toBe(false);
    expect(needsRehash(pbkdf2, { algorithm: 'pbkdf2-sha3-256' })).toBe(true);
    expect(needsRehash(KNOWN[0][1])).toBe(false); // libargon2's hash at our defaults, 16-byte salt
    const shortSalt = '$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$CTFhFdXPJO1aFaMaO6Mm5c8y7cJHAph8ArZWb2GRPPc';
    expect(needsRehash(shortSalt)).toBe(true); // 8-byte salt ("saltsalt") from an older system
  });

  it('refuses malformed or unsupported PHC strings with VALIDATION_FAILED, without echoing them', async () => {
    const good = KNOWN[0][1];
    const bad = [
      '',
      'plaintext-password',
      good.slice(0, good.lastIndexOf('$')),
      `${good}=`,
      good.replace('$v=19', ''),
      good.replace('v=19', 'v=16'),
      good.replace('m=19456', 'm=019456'),
      good.replace('m=19456', 'm=19456,m=19456'),
      good.replace(',p=1', ''),
      good.replace(',p=1', ',p=1,x=2'),
      good.replace('m=19456', 'm=4194304'), // beyond the 1 GiB ceiling: a planted hash must not exhaust memory
      good.replace('t=2', 't=0'),
      good.replace('t=2', 't=1000'),
      good.replace('argon2id', 'argon2i'),
      good.replace('argon2id', 'bcrypt'),
      good.replace('MDEyMzQ1Njc4OWFiY2RlZg', 'c2FsdA'), // 4-byte salt
      good.replace('MDEyMzQ1Njc4OWFiY2RlZg', 'MDEyMzQ1Njc4OWFiY2RlZh'), // non-canonical base64
      ` ${good}`,
      '$scrypt$ln=25,r=8,p=1$MDEyMzQ1Njc4OWFiY2RlZg$7AnzIswxwEinpwz+ntydndYfVHPvOACmX9Vvo8hO1qM',
      '$pbkdf2-sha3-256$i=99999999$MDEyMzQ1Njc4OWFiY2RlZg$y96zUJR8wT83tcWB+ryFMbEidao+v3AISixl3GH4Xmg',
      `$argon2id$v=19$m=19456,t=2,p=1$${'A'.repeat(2000)}$x`,
    ];
    for (const stored of bad) {
      const err = await expectCode(() => verifyPassword(stored, 'pw'), 'VALIDATION_FAILED');
      if (stored.length > 8) expect(err.message).not.toContain(stored);
      await expectCode(() => needsRehash(stored), 'VALIDATION_FAILED');
    }
    await expectCode(() => verifyPassword(42 as never, 'pw'), 'VALIDATION_FAILED');
  });

  it('refuses bad passwords and policies with typed errors', async () => {
    await expectCode(() => hashPassword(''), 'VALIDATION_FAILED');
    await expectCode(() => hashPassword(new Uint8Array(0)), 'VALIDATION_FAILED');
    await expectCode(() => hashPassword('a\uD800'), 'VALIDATION_FAILED');
    await expectCode(() => hashPassword(null as never), 'VALIDATION_FAILED');
    await expectCode(() => hashPassword('x'.repeat(4097)), 'PAYLOAD_TOO_LARGE');
    await expectCode(() => verifyPassword(KNOWN[0][1], 'x'.repeat(4097)), 'PAYLOAD_TOO_LARGE');
    await expectCode(() => verifyPassword(KNOWN[0][1], ''), 'VALIDATION_FAILED');
    await expectCode(() => hashPassword('pw', { algorithm: 'md5' } as never), 'VALIDATION_FAILED');
    await expectCode(() => hashPassword('pw', { argon2id: { memoryKiB: 64 } }), 'VALIDATION_FAILED');
    await expectCode(() => hashPassword('pw', { pbkdf2: { iterations: 1000 } }), 'VALIDATION_FAILED');
    await expectCode(() => hashPassword('pw', { scrypt: { logN: 21 } }), 'VALIDATION_FAILED');
    await expectCode(() => hashPassword('pw', { argon2id: { memoryKiB: 1.5 } } as never), 'VALIDATION_FAILED');
    expect(await hashPassword('x'.repeat(4096), FAST.pbkdf2)).toMatch(/^\$pbkdf2-sha3-256\$/);
  });
});

interface PbkdfTest {
  readonly tcId: number;
  readonly password: string;
  readonly salt: string;
  readonly iterationCount: number;
  readonly dkLen: number;
  readonly dk: string;
  readonly result: WycheproofResult;
}
const pbkdfFile = loadVectors<WycheproofFile<{ readonly tests: readonly PbkdfTest[] }>>('wycheproof/pbkdf2_hmacsha256_test.json');

describe.skipIf(pbkdfFile === undefined)('Wycheproof PBKDF2-HMAC-SHA-256 (the PBKDF2 code path, with SHA-256)', () => {
  it('derives every case on node:crypto and noble', async () => {
    const tally = new Tally('pbkdf2_hmacsha256_test.json');
    for (const group of pbkdfFile!.testGroups) {
      for (const t of group.tests) {
        for (const engine of ['node', 'noble'] as const) {
          const dk = await derivePbkdf2('SHA-256', hex(t.password), hex(t.salt), t.iterationCount, t.dkLen, engine);
          expect(toHex(dk) === t.dk, `tcId ${t.tcId} (${engine})`).toBe(t.result !== 'invalid');
        }
        tally.ran += 1;
      }
    }
    tally.print();
    expect(tally.ran).toBe(pbkdfFile!.numberOfTests);
  });
});
