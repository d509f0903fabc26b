import type { Clock } from './clock.js';
import { systemClock } from './clock.js';

/**
 * UUIDv7 (RFC 9562 §5.7): 48-bit millisecond timestamp, then random bits, so ids sort by
 * creation time (good B-tree locality in PostgreSQL, readable cursors). Within one millisecond
 * this generator uses the 12-bit `rand_a` field as a counter (RFC 9562 §6.2, method 1), so ids
 * from one generator are strictly increasing even when minted faster than the clock ticks.
 */
export interface IdGenerator {
  /** A new id, greater than every id this generator returned before. */
  next(): string;
}

/** Character codes of `0-9a-f`. */
const HEX_CODES: readonly number[] = Array.from('0123456789abcdef', (c) => c.charCodeAt(0));
/** Where each of the 16 bytes goes in the 36-character form (dashes at 8, 13, 18, 23). */
const BYTE_POSITIONS: readonly number[] = [0, 2, 4, 6, 9, 11, 14, 16, 19, 21, 24, 26, 28, 30, 32, 34];

/**
 * Creates a monotonic UUIDv7 generator.
 *
 * @param options.clock time source (default: system clock).
 * @param options.random fills a buffer with random bytes (default: `crypto.getRandomValues`).
 * @example
 * ```ts
 * import { createUuidV7Generator } from 'digital-fabrica';
 * const ids = createUuidV7Generator();
 * const a = ids.next();
 * const b = ids.next();
 * console.log(a < b); // true
 * ```
 */
export function createUuidV7Generator(
  options: { clock?: Clock; random?: (bytes: Uint8Array) => void } = {},
): IdGenerator {
  const clock = options.clock ?? systemClock;
  const random = options.random ?? ((bytes: Uint8Array) => void globalThis.crypto.getRandomValues(bytes));
  let lastMs = -1;
  let counter = 0;
  const bytes = new Uint8Array(16);
  // The id's character codes, dashes in place; the string is made from them in one step: built
  // by concatenation it would be a tree of ~20 cons-strings until something flattened it.
  const codes: number[] = Array.from({ length: 36 }, () => 0x2d);
  return {
    next(): string {
      let ms = Math.floor(clock.now());
      random(bytes);
      if (ms <= lastMs) {
        // Same (or earlier: clock stepped back) millisecond: keep the last timestamp and count up.
        ms = lastMs;
        counter += 1;
        if (counter > 0xfff) {
          // Counter exhausted: borrow the next millisecond rather than lose ordering.
          ms += 1;
          counter = (bytes[6]! & 0x07) << 8 | bytes[7]!;
        }
      } else {
        // Fresh millisecond: seed the counter randomly in its lower half, leaving room to count up.
        counter = (bytes[6]! & 0x07) << 8 | bytes[7]!;
      }
      lastMs = ms;
      bytes[0] = Math.floor(ms / 2 ** 40) & 0xff;
      bytes[1] = Math.floor(ms / 2 ** 32) & 0xff;
      bytes[2] = (ms >>> 24) & 0xff;
      bytes[3] = (ms >>> 16) & 0xff;
      bytes[4] = (ms >>> 8) & 0xff;
      bytes[5] = ms & 0xff;
      bytes[6] = 0x70 | ((counter >>> 8) & 0x0f);
      bytes[7] = counter & 0xff;
      bytes[8] = 0x80 | (bytes[8]! & 0x3f);
      for (let i = 0; i < 16; i++) {
        const b = bytes[i]!;
        const at = BYTE_POSITIONS[i]!;
        codes[at] = HEX_CODES[b >> 4]!;
        codes[at + 1] = HEX_CODES[b & 15]!;
      }
      return String.fromCharCode.apply(null, codes);
    },
  };
}

const defaultGenerator = createUuidV7Generator();

/**
 * A new UUIDv7 from the process-wide generator.
 *
 * @example
 * ```ts
 * import { uuidv7 } from 'digital-fabrica';
 * const id = uuidv7(); // e.g. '019a6f3c-8e2b-7a41-9d3e-1f2a3b4c5d6e'
 * ```
 */
export function uuidv7(): string {
  return defaultGenerator.next();
}

/** Extracts the creation time (epoch ms) from a UUIDv7. Returns `undefined` for other strings. */
export function uuidv7Timestamp(id: string): number | undefined {
  if (!/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/i.test(id)) return undefined;
  return parseInt(id.slice(0, 8) + id.slice(9, 13), 16);
}
