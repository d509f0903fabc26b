import { ValidationError } from '../../core/errors.js';
import { MAX_KEY_LENGTH } from './names.js';
import {
  MAX_RATE_INTERVAL_US,
  MAX_RATE_LIMITS,
  MAX_RATE_TOLERANCE_US,
  type GcraLimit,
  type RateLimitRequest,
} from '../rate-limit.js';

function fail(path: (string | number)[], message: string): never {
  throw new ValidationError(`invalid rate limit request at ${path.join('.')}: ${message}`, [{ path, message, code: 'custom' }]);
}

/**
 * True for 1–`max` characters without C0/C1 control characters or lone surrogates — the storage
 * key rule. One pass over char codes: this runs on every check of the limiter's hot path, where
 * a regex plus `isWellFormed` cost a tenth of the whole check.
 */
export function isPlainKey(key: unknown, max: number = MAX_KEY_LENGTH): key is string {
  if (typeof key !== 'string' || key.length === 0 || key.length > max) return false;
  for (let i = 0; i < key.length; i++) {
    const c = key.charCodeAt(i);
    if (c < 0x20 || (c >= 0x7f && c <= 0x9f)) return false;
    if (c >= 0xd800 && c <= 0xdfff) {
      // A high surrogate must be followed by a low one; a low one must not stand alone.
      if (c >= 0xdc00) return false;
      const next = key.charCodeAt(i + 1);
      if (!(next >= 0xdc00 && next <= 0xdfff)) return false;
      i += 1;
    }
  }
  return true;
}

/**
 * Checks a rate-limit key: 1–512 characters, no control characters, well-formed Unicode.
 * @throws `VALIDATION_FAILED`
 */
export function checkRateKey(key: unknown, path: (string | number)[]): string {
  if (!isPlainKey(key)) fail(path, `must be a string of 1–${MAX_KEY_LENGTH} characters without control characters or lone surrogates`);
  return key;
}

/**
 * Validates a {@link RateLimitRequest} (see the contract for the rules). Returns the same
 * object: validation never copies on the hot path. With `checkKeys` false, the caller promises
 * to run {@link checkRateKey} on every key it has not validated before (the memory store does so
 * on a map miss: a key found in the map was checked when it was inserted).
 * @throws `VALIDATION_FAILED`
 */
export function parseRateLimitRequest(request: RateLimitRequest, checkKeys = true): RateLimitRequest {
  if (typeof request !== 'object' || request === null) fail([], 'must be an object');
  const { limits, cost } = request;
  if (!Number.isSafeInteger(cost) || cost < 0) fail(['cost'], 'must be an integer ≥ 0');
  if (!Array.isArray(limits) || limits.length === 0 || limits.length > MAX_RATE_LIMITS) fail(['limits'], `must hold 1–${MAX_RATE_LIMITS} limits`);
  for (let i = 0; i < limits.length; i++) {
    const limit = limits[i] as GcraLimit;
    if (typeof limit !== 'object' || limit === null) fail(['limits', i], 'must be an object');
    if (checkKeys) checkRateKey(limit.key, ['limits', i, 'key']);
    else if (typeof limit.key !== 'string') fail(['limits', i, 'key'], 'must be a string');
    if (!Number.isSafeInteger(limit.intervalUs) || limit.intervalUs < 1 || limit.intervalUs > MAX_RATE_INTERVAL_US) {
      fail(['limits', i, 'intervalUs'], `must be an integer in 1–${MAX_RATE_INTERVAL_US}`);
    }
    if (!Number.isSafeInteger(limit.burst) || limit.burst < 1 || limit.burst * limit.intervalUs > MAX_RATE_TOLERANCE_US) {
      fail(['limits', i, 'burst'], `must be an integer ≥ 1 with burst × intervalUs ≤ ${MAX_RATE_TOLERANCE_US}`);
    }
    for (let j = 0; j < i; j++) if ((limits[j] as GcraLimit).key === limit.key) fail(['limits', i, 'key'], 'keys must be distinct');
  }
  // cost ≤ every burst is the domain's rule (a larger cost can never pass); the store only
  // needs cost × intervalUs to stay exact, which cost ≤ 2^53 / 1e12 would not guarantee.
  for (let i = 0; i < limits.length; i++) {
    if (cost * (limits[i] as GcraLimit).intervalUs > MAX_RATE_TOLERANCE_US) fail(['cost'], `cost × intervalUs must be ≤ ${MAX_RATE_TOLERANCE_US}`);
  }
  return request;
}

/**
 * Validates the keys of a reset: 1–1000 keys.
 * @throws `VALIDATION_FAILED`
 */
export function parseRateLimitKeys(keys: readonly string[]): readonly string[] {
  if (!Array.isArray(keys) || keys.length > 1000) fail(['keys'], 'must be an array of at most 1000 keys');
  keys.forEach((key, i) => checkRateKey(key, ['keys', i]));
  return keys;
}

/**
 * The GCRA decision over several limits, in integer microseconds: the reference every backend
 * restates (Lua, plpgsql). `tats` holds the stored TATs (0 when absent); returns whether the
 * request passes every limit and the TATs after the call (advanced only when it passes).
 */
export function decideGcra(limits: readonly GcraLimit[], cost: number, nowUs: number, tats: readonly number[]): { allowed: boolean; tatsUs: number[] } {
  const out = new Array<number>(limits.length);
  let allowed = true;
  for (let i = 0; i < limits.length; i++) {
    const { intervalUs, burst } = limits[i]!;
    const tat = tats[i]! > nowUs ? tats[i]! : nowUs;
    out[i] = tat;
    // Passes when the new TAT lies at most burst × T ahead of now.
    if (tat + cost * intervalUs - burst * intervalUs > nowUs) allowed = false;
  }
  if (allowed && cost > 0) for (let i = 0; i < limits.length; i++) out[i] = out[i]! + cost * limits[i]!.intervalUs;
  return { allowed, tatsUs: out };
}
