import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The project root (this file lives in test/unit/identity/support/). */
const ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

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
