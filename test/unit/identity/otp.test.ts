/**
 * HOTP and TOTP against the RFC appendices (../shared/vectors/otp/rfc-vectors.json), through the
 * public functions and through both HMAC engines (node:crypto and noble), plus the window,
 * base32 and otpauth:// helpers.
 */
import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, hotp, otpauthUri, totp, totpStep, verifyTotp, type OtpAlgorithm } from '../../../src/identity/index.js';
import { nobleHmac, nodeHmac } from '../../../src/identity/internal/otp-hmac.js';
import { loadVectors } from '../../support/vectors.js';

interface OtpVectors {
  readonly hotp: { readonly secret_ascii: string; readonly digits: number; readonly algorithm: 'SHA1'; readonly codes_by_counter: readonly string[] };
  readonly totp: {
    readonly step_seconds: number;
    readonly t0: number;
    readonly digits: number;
    readonly secrets_ascii: Readonly<Record<OtpAlgorithm, string>>;
    readonly cases: readonly ({ readonly unix_time: number } & Readonly<Record<OtpAlgorithm, string>>)[];
  };
}

const FILE = 'otp/rfc-vectors.json';
const vectors = loadVectors<OtpVectors>(FILE);
const ascii = (s: string): Uint8Array => new TextEncoder().encode(s);

describe.skipIf(!vectors)('RFC 4226 and RFC 6238 vectors', () => {
  it('HOTP: every counter of RFC 4226 Appendix D', () => {
    const { hotp: h } = vectors!;
    h.codes_by_counter.forEach((code, counter) => expect(hotp(ascii(h.secret_ascii), counter, { digits: h.digits, algorithm: h.algorithm })).toBe(code));
    console.log(`[vectors] ${FILE} HOTP: ${h.codes_by_counter.length} cases ran, 0 skipped`);
  });

  it('TOTP: every time and hash of RFC 6238 Appendix B', () => {
    const { totp: t } = vectors!;
    let ran = 0;
    for (const c of t.cases) {
      for (const algorithm of ['SHA1', 'SHA256', 'SHA512'] as const) {
        const secret = ascii(t.secrets_ascii[algorithm]);
        const options = { digits: t.digits, algorithm, period: t.step_seconds, t0: t.t0 };
        expect(totp(secret, c.unix_time * 1000, options), `${algorithm} @ ${c.unix_time}`).toBe(c[algorithm]);
        // And the verifier finds exactly that step.
        expect(verifyTotp(secret, c[algorithm], c.unix_time * 1000, { ...options, window: 0 })).toBe(totpStep(c.unix_time * 1000, options));
        ran += 1;
      }
    }
    console.log(`[vectors] ${FILE} TOTP: ${ran} cases ran (${t.cases.length} times × 3 hashes), 0 skipped`);
  });

  it('both HMAC engines (node:crypto, noble) agree on every vector input', () => {
    expect(nodeHmac).not.toBeNull();
    // RFC 4226 Appendix D: HMAC-SHA-1 of counter 0 with the HOTP secret.
    expect(Buffer.from(nobleHmac('SHA1', ascii(vectors!.hotp.secret_ascii), new Uint8Array(8))).toString('hex')).toBe('cc93cf18508d94934c64b65d8ba7667fb7cde4b0');
    const { totp: t } = vectors!;
    for (const c of t.cases) {
      for (const algorithm of ['SHA1', 'SHA256', 'SHA512'] as const) {
        const counter = new Uint8Array(8);
        new DataView(counter.buffer).setBigUint64(0, BigInt(Math.floor(c.unix_time / t.step_seconds)));
        const secret = ascii(t.secrets_ascii[algorithm]);
        expect(Buffer.from(nodeHmac!(algorithm, secret, counter))).toEqual(Buffer.from(nobleHmac(algorithm, secret, counter)));
      }
    }
  });
});

describe('TOTP verification window', () => {
  const secret = ascii('12345678901234567890');
  const now = 1_750_000_015_000; // mid-step

  it('accepts the previous, current and next step with window 1, and nothing further', () => {
    const step = totpStep(now);
    for (const offset of [-1, 0, 1]) expect(verifyTotp(secret, totp(secret, now + offset * 30_000), now)).toBe(step + offset);
    for (const offset of [-2, 2, 10]) expect(verifyTotp(secret, totp(secret, now + offset * 30_000), now)).toBeNull();
    expect(verifyTotp(secret, totp(secret, now - 30_000), now, { window: 0 })).toBeNull();
  });

  it('refuses malformed codes without throwing', () => {
    for (const code of ['', '12345', '1234567', 'abcdef', ' 12345', '１２３４５６']) expect(verifyTotp(secret, code, now)).toBeNull();
  });

  it('validates secrets and options', () => {
    expect(() => totp(new Uint8Array(4), now)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => hotp(secret, -1)).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    expect(() => totp(secret, now, { digits: 9 })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

describe('base32 and otpauth://', () => {
  it('round-trips RFC 4648 §10 test vectors', () => {
    const cases: [string, string][] = [['', ''], ['f', 'MY'], ['fo', 'MZXQ'], ['foo', 'MZXW6'], ['foob', 'MZXW6YQ'], ['fooba', 'MZXW6YTB'], ['foobar', 'MZXW6YTBOI']];
    for (const [plain, encoded] of cases) {
      expect(base32Encode(ascii(plain))).toBe(encoded);
      expect(new TextDecoder().decode(base32Decode(encoded)!)).toBe(plain);
    }
    expect(new TextDecoder().decode(base32Decode('mzxw 6ytb oi======')!)).toBe('foobar');
    expect(base32Decode('MZXW1')).toBeNull();
    expect(base32Decode('M')).toBeNull();
  });

  it('builds a Key URI that authenticator apps read', () => {
    const uri = otpauthUri({ secret: 'JBSWY3DPEHPK3PXPJBSWY3DP', issuer: 'ACME Co', accountName: 'ada@example.com' });
    const url = new URL(uri);
    expect(url.protocol).toBe('otpauth:');
    expect(url.host).toBe('totp');
    expect(decodeURIComponent(url.pathname)).toBe('/ACME Co:ada@example.com');
    expect(Object.fromEntries(url.searchParams)).toEqual({ secret: 'JBSWY3DPEHPK3PXPJBSWY3DP', issuer: 'ACME Co', algorithm: 'SHA1', digits: '6', period: '30' });
    expect(() => otpauthUri({ secret: 'JBSWY3DPEHPK3PXP', issuer: 'A:B', accountName: 'x' })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
