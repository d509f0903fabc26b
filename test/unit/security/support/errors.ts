import { expect } from 'vitest';
import { isFabricaError, type FabricaErrorCode } from '../../../../src/errors.js';

/** Awaits `fn` and asserts it fails with a FabricaError of `code`; returns the error. */
export async function expectCode(fn: () => unknown, code: FabricaErrorCode): Promise<{ code: string; message: string; details?: Readonly<Record<string, unknown>> }> {
  let error: unknown;
  try {
    await fn();
  } catch (err) {
    error = err;
  }
  expect(error, `expected ${code}, but the call succeeded`).toBeDefined();
  expect(isFabricaError(error), `expected a FabricaError, got ${String(error)}`).toBe(true);
  expect((error as { code: string }).code).toBe(code);
  return error as { code: string; message: string };
}
