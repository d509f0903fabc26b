import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareKeys } from '../../src/adapters/internal/order.js';
import { prefixUpperBound } from '../../src/adapters/postgres/key-range.js';

describe('prefixUpperBound', () => {
  it('increments the last code point', () => {
    expect(prefixUpperBound('job/')).toBe('job0');
    expect(prefixUpperBound('a%')).toBe('a&');
    expect(prefixUpperBound('a\\')).toBe('a]');
    expect(prefixUpperBound('🙂')).toBe('🙃');
  });

  it('skips the surrogate range after U+D7FF and carries past U+10FFFF', () => {
    expect(prefixUpperBound('a\ud7ff')).toBe('a\ue000');
    expect(prefixUpperBound('a\u{10ffff}')).toBe('b');
    expect(prefixUpperBound('a\u{10ffff}\u{10ffff}')).toBe('b');
  });

  it('has no bound for the empty prefix or one made only of U+10FFFF', () => {
    expect(prefixUpperBound('')).toBeNull();
    expect(prefixUpperBound('\u{10ffff}')).toBeNull();
  });

  it('selects exactly the keys with the prefix: prefix <= key < bound (property)', () => {
    const text = fc.string({ unit: 'grapheme', maxLength: 6 });
    const edgy = fc.constantFrom('', '\ud7ff', '\ue000', '\u{10ffff}', '\uffff', '%', '_', '\\', 'z');
    const piece = fc.oneof(text, edgy);
    fc.assert(
      fc.property(fc.tuple(piece, piece), fc.tuple(piece, piece, piece), ([p1, p2], [k1, k2, k3]) => {
        const prefix = p1 + p2;
        for (const key of [k1 + k2, prefix + k1, prefix.slice(0, -1) + k3, k1 + prefix]) {
          const bound = prefixUpperBound(prefix);
          const inRange = compareKeys(key, prefix) >= 0 && (bound === null || compareKeys(key, bound) < 0);
          expect(inRange, `${JSON.stringify(prefix)} vs ${JSON.stringify(key)}`).toBe(key.startsWith(prefix));
        }
      }),
      { numRuns: 2_000 },
    );
  });
});
