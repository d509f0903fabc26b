import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (this file lives in test/support/). */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** Where external vectors live: `FABRICA_VECTORS_DIR`, else `../shared/vectors` next to the project. */
export const VECTORS_DIR = process.env.FABRICA_VECTORS_DIR ?? resolve(ROOT, '../shared/vectors');

const CI = process.env.CI === 'true' || process.env.CI === '1';

/**
 * Reads a vector file, or returns `undefined` after a loud warning so the caller can skip.
 * Under CI=true a missing file throws: vectors are part of the contract there.
 */
export function loadVectors<T>(relativePath: string): T | undefined {
  const path = join(VECTORS_DIR, relativePath);
  if (!existsSync(path)) {
    const message = `vector file ${path} is missing (set FABRICA_VECTORS_DIR)`;
    if (CI) throw new Error(`${message}; CI=true requires it`);
    console.warn(`\n${'!'.repeat(78)}\n${message}: its tests are SKIPPED\n${'!'.repeat(78)}\n`);
    return undefined;
  }
  return JSON.parse(readFileSync(path, 'utf8')) as T;
}

/** Hex to bytes. */
export function hex(text: string): Uint8Array {
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = Number.parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

/** Bytes to hex. */
export function toHex(bytes: Uint8Array): string {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('');
}

/** Counts cases that ran and cases skipped per reason, and prints the tally. */
export class Tally {
  ran = 0;
  readonly skipped = new Map<string, number>();

  constructor(readonly name: string) {}

  skip(reason: string): void {
    this.skipped.set(reason, (this.skipped.get(reason) ?? 0) + 1);
  }

  get skippedTotal(): number {
    let n = 0;
    for (const count of this.skipped.values()) n += count;
    return n;
  }

  print(): void {
    const reasons = [...this.skipped].map(([reason, count]) => `\n    - ${count} skipped: ${reason}`).join('');
    console.log(`[vectors] ${this.name}: ${this.ran} cases ran, ${this.skippedTotal} skipped${reasons}`);
  }
}

/** Wycheproof file shapes (only the fields the tests read). */
export interface WycheproofFile<G> {
  readonly algorithm: string;
  readonly numberOfTests: number;
  readonly testGroups: readonly G[];
}

/** A Wycheproof test's verdict. */
export type WycheproofResult = 'valid' | 'invalid' | 'acceptable';

/** Fast byte equality for large arrays (vitest's deep equality walks element by element). */
export function sameBytes(a: Uint8Array | null | undefined, b: Uint8Array | null | undefined): boolean {
  if (!a || !b) return a === b;
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.length).equals(Buffer.from(b.buffer, b.byteOffset, b.length));
}
