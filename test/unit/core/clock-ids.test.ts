import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ManualClock, systemClock } from '../../../src/core/clock.js';
import { createUuidV7Generator, uuidv7, uuidv7Timestamp } from '../../../src/core/ids.js';

describe('clocks', () => {
  it('a manual clock moves only when told, never backwards', () => {
    const clock = new ManualClock(100);
    expect(clock.now()).toBe(100);
    clock.advance(50);
    clock.set(1_000);
    expect(clock.now()).toBe(1_000);
    expect(() => clock.advance(-1)).toThrow(RangeError);
    expect(() => clock.set(999)).toThrow(RangeError);
  });

  it('the system clock follows Date.now', () => {
    const before = Date.now();
    const now = systemClock.now();
    expect(now).toBeGreaterThanOrEqual(before);
    expect(now).toBeLessThanOrEqual(Date.now());
  });
});

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

describe('UUIDv7', () => {
  it('has the RFC 9562 layout and encodes its creation time', () => {
    const clock = new ManualClock(Date.UTC(2026, 10, 26, 12, 0, 0));
    const id = createUuidV7Generator({ clock }).next();
    expect(id).toMatch(UUID_V7);
    expect(uuidv7Timestamp(id)).toBe(clock.now());
    expect(uuidv7()).toMatch(UUID_V7);
    expect(uuidv7Timestamp('not-a-uuid')).toBeUndefined();
  });

  it('ids from one generator strictly increase, even within one millisecond and when the clock steps back', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -5, max: 5 }), { minLength: 1, maxLength: 300 }), (steps) => {
        let now = 1_700_000_000_000;
        const gen = createUuidV7Generator({ clock: { now: () => now } });
        let last = '';
        for (const step of steps) {
          now += step;
          const id = gen.next();
          expect(id).toMatch(UUID_V7);
          expect(id > last).toBe(true);
          last = id;
        }
      }),
    );
  });

  it('stays ordered past 4096 ids in one millisecond', () => {
    const gen = createUuidV7Generator({ clock: { now: () => 1_000 } });
    const ids = Array.from({ length: 10_000 }, () => gen.next());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
  });
});
