import type { JsonValue } from '../storage.js';
import { PayloadTooLargeError, ValidationError } from '../../core/errors.js';

/** Largest serialised document or message the adapters accept (UTF-16 code units of its JSON). */
export const MAX_JSON_LENGTH = 16 * 1024 * 1024;

/**
 * Serialises a value after checking it is plain JSON. `JSON.stringify` alone would silently turn
 * `NaN` into `null`, drop `undefined` and stringify class instances: stored data would differ from
 * what the caller passed.
 * @throws `VALIDATION_FAILED` for non-JSON values, `PAYLOAD_TOO_LARGE` past {@link MAX_JSON_LENGTH}.
 */
export function encodeJson(value: unknown, what = 'value'): string {
  assertJson(value, [], what, 0);
  const text = JSON.stringify(value);
  if (text.length > MAX_JSON_LENGTH) {
    throw new PayloadTooLargeError(`${what} is ${text.length} characters as JSON; the limit is ${MAX_JSON_LENGTH}`, {
      details: { length: text.length, limit: MAX_JSON_LENGTH },
    });
  }
  return text;
}

/** Parses JSON produced by {@link encodeJson}. */
export function decodeJson<T extends JsonValue = JsonValue>(text: string): T {
  return JSON.parse(text) as T;
}

const MAX_DEPTH = 256;

function assertJson(value: unknown, path: (string | number)[], what: string, depth: number): void {
  const fail = (message: string): never => {
    throw new ValidationError(`invalid ${what}: ${message}`, [{ path: [...path], message, code: 'invalid_type' }]);
  };
  if (depth > MAX_DEPTH) fail(`nested deeper than ${MAX_DEPTH}`);
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return;
    case 'number':
      if (!Number.isFinite(value)) fail('numbers must be finite');
      return;
    case 'object': {
      if (value === null) return;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          path.push(i);
          assertJson(value[i], path, what, depth + 1);
          path.pop();
        }
        return;
      }
      const proto = Object.getPrototypeOf(value) as unknown;
      if (proto !== Object.prototype && proto !== null) fail('only plain objects are JSON');
      for (const [k, v] of Object.entries(value)) {
        path.push(k);
        assertJson(v, path, what, depth + 1);
        path.pop();
      }
      return;
    }
    default:
      fail(`${typeof value} is not JSON`);
  }
}
