import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { base32Decode, base32Encode, buildSiweMessage, parseSiweMessage, totp, verifyTotp } from '../../../src/identity/index.js';
import { decodeBase64url, encodeBase64url, isCanonicalBase64url } from '../../../src/identity/internal/base64url.js';

const ADDRESSES = ['0x9858EfFD232B4033E47d90003D41EC34EcaEda94', '0x6Fac4D18c912343BF86fa7049364Dd4E424Ab9C0', '0xCD2a3d9F938E13CD947Ec05AbC7FE734Df8DD826'];

describe('properties', () => {
  it('base64url: decoding accepts exactly the canonical encodings (decode(s) = b ⇔ encode(b) = s)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (bytes) => {
        const text = encodeBase64url(bytes);
        expect(isCanonicalBase64url(text)).toBe(true);
        expect(decodeBase64url(text)).toEqual(bytes);
        expect(text).toBe(Buffer.from(bytes).toString('base64url'));
      }),
    );
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom(...'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_= +/.'), maxLength: 40 }), (text) => {
        const decoded = decodeBase64url(text);
        if (decoded !== null) expect(encodeBase64url(decoded)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it('base32: round-trips any bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        expect(base32Decode(base32Encode(bytes))).toEqual(bytes);
      }),
    );
  });

  it('TOTP: a code verifies within ±window steps of its time and not beyond', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), fc.integer({ min: 1_000_000_000, max: 4_000_000_000 }), fc.integer({ min: -3, max: 3 }), (secret, seconds, offset) => {
        const at = seconds * 1000;
        const code = totp(secret, at + offset * 30_000);
        const step = verifyTotp(secret, code, at);
        if (Math.abs(offset) <= 1) expect(step).not.toBeNull();
        // Beyond the window a match can only be a coincidence of two steps' codes (p ≈ 1e-6 each).
        if (step !== null) expect(Math.abs(step - Math.floor(seconds / 30))).toBeLessThanOrEqual(1);
      }),
      { numRuns: 300 },
    );
  });

  it('EIP-4361: parse(build(fields)) = fields for any valid fields', () => {
    const iso = fc.integer({ min: 1_600_000_000_000, max: 2_000_000_000_000 }).map((ms) => new Date(ms).toISOString());
    const statement = fc.string({ unit: fc.constantFrom(...'abcXYZ019 .,:;!?/()-_~@#$&+=\''), minLength: 1, maxLength: 60 }).filter((s) => s.trim() === s && s.length > 0);
    const fields = fc.record(
      {
        domain: fc.constantFrom('example.com', 'app.example.com:8443', 'localhost:3000', 'sub.domain.example'),
        address: fc.constantFrom(...ADDRESSES),
        statement,
        uri: fc.constantFrom('https://example.com', 'https://example.com/login?x=1', 'did:key:z6Mk'),
        version: fc.constant('1' as const),
        chainId: fc.integer({ min: 1, max: 2 ** 40 }),
        nonce: fc.string({ unit: fc.constantFrom(...'abcdefABCDEF0123456789'), minLength: 8, maxLength: 32 }),
        issuedAt: iso,
        expirationTime: iso,
        notBefore: iso,
        requestId: fc.string({ unit: fc.constantFrom(...'abc123-_.'), minLength: 1, maxLength: 10 }),
        resources: fc.array(fc.constantFrom('https://a.example/x', 'ipfs://bafy/', 'urn:x:y'), { minLength: 1, maxLength: 3 }),
      },
      { requiredKeys: ['domain', 'address', 'uri', 'version', 'chainId', 'nonce', 'issuedAt'] },
    );
    fc.assert(
      fc.property(fields, (f) => {
        const text = buildSiweMessage(f);
        expect(parseSiweMessage(text)).toEqual(f);
      }),
      { numRuns: 300 },
    );
  });
});
