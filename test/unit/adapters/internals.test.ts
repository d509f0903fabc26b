import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { compareKeys } from '../../../src/adapters/internal/order.js';
import { decodeCursor, encodeCursor } from '../../../src/adapters/internal/cursor.js';
import { decideAdd } from '../../../src/adapters/internal/requests.js';
import { encodeJson } from '../../../src/adapters/internal/json.js';
import { SortedKeys } from '../../../src/adapters/internal/sorted-keys.js';

const utf8 = new TextEncoder();
function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(utf8.encode(a)), Buffer.from(utf8.encode(b)));
}

describe('key order', () => {
  it('equals UTF-8 byte order (what PostgreSQL COLLATE "C" and Redis ZRANGEBYLEX use)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), fc.string({ unit: 'grapheme' }), (a, b) => {
        expect(Math.sign(compareKeys(a, b))).toBe(Math.sign(byteCompare(a, b)));
      }),
      { numRuns: 2_000 },
    );
    expect(compareKeys('\ue000', '𝄞')).toBeLessThan(0);
    expect('\ue000' < '𝄞').toBe(false); // what JavaScript's own comparison gets wrong
  });

  it('sorted keys scan a prefix range in order and resume strictly after a cursor key', () => {
    fc.assert(
      fc.property(fc.uniqueArray(fc.string({ unit: 'grapheme', maxLength: 4 }), { maxLength: 60 }), fc.string({ unit: 'grapheme', maxLength: 2 }), (keys, prefix) => {
        const set = new SortedKeys();
        for (const k of keys) set.add(k);
        const expected = keys.filter((k) => k.startsWith(prefix)).sort(compareKeys);
        expect([...set.scan(prefix, null)]).toEqual(expected);
        if (expected.length > 1) expect([...set.scan(prefix, expected[0]!)]).toEqual(expected.slice(1));
      }),
    );
  });
});

describe('cursors', () => {
  it('round-trip any key', () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", minLength: 1 }), (key) => {
        expect(decodeCursor(encodeCursor(key))).toBe(key);
      }),
    );
  });

  it('reject strings that are not cursors', () => {
    for (const bad of ['', '!!', 'a b', btoa('x:abc'), 'AAAA']) {
      expect(() => decodeCursor(bad)).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
  });
});

describe('decideAdd (the counter rule every backend restates)', () => {
  it('never crosses a bound in the direction of the delta, and never changes the value when refusing', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: -1000, max: 1000 }),
        fc.integer({ min: -100, max: 100 }),
        fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: undefined }),
        fc.option(fc.integer({ min: -1000, max: 1000 }), { nil: undefined }),
        (current, delta, min, max) => {
          const r = decideAdd(current, { delta, min, max });
          if (!r.applied) expect(r.value).toBe(current);
          else expect(r.value).toBe(current + delta);
          if (r.applied && delta > 0 && max !== undefined) expect(r.value).toBeLessThanOrEqual(max);
          if (r.applied && delta < 0 && min !== undefined) expect(r.value).toBeGreaterThanOrEqual(min);
        },
      ),
    );
  });
});

describe('encodeJson', () => {
  it('accepts plain JSON and rejects what JSON.stringify would silently alter', () => {
    expect(encodeJson({ a: [1, 'x', null, true, { b: -0.5 }] })).toBe('{"a":[1,"x",null,true,{"b":-0.5}]}');
    expect(encodeJson(Object.assign(Object.create(null) as object, { a: 1 }))).toBe('{"a":1}');
    for (const bad of [Number.NaN, -Infinity, undefined, () => 1, Symbol('s'), 1n, new Map(), { x: undefined }, [new Date(0)]]) {
      expect(() => encodeJson(bad)).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    }
  });

  it('rejects structures nested deeper than 256 levels', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(() => encodeJson(deep)).toThrowError(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
