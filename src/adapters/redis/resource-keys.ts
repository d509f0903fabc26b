import { redisKeyLayout } from './keys.js';

/**
 * Key names of the Redis rate-limit and reservation stores. They share the adapter's hash tag
 * `{<prefix>}` (see `keys.ts`), so every script's keys live in one cluster slot, and their
 * letters (`rl`, `rv`, `rvx`, `rvu`) differ from the storage and cache ones (`d`, `i`, `r`, `c`,
 * `rev`) at the first or second character, so no name can collide.
 *
 * ```text
 * {df}:rl:<key>       GCRA TAT of one limit: integer epoch µs as text, expires (PX) when it passes
 * {df}:rv:<owner>     reservations: hash id → 'compute,storage,network,createdAt,expiresAt'
 * {df}:rvx:<owner>    the same ids scored by expiresAt (ms), to find expired ones
 * {df}:rvu:<owner>    recorded usage: hash c, s, n
 * ```
 */
export interface RedisResourceKeys {
  /** The TAT of one rate-limit key. */
  rate(key: string): string;
  /** The three keys of one owner's reservations, in the order the scripts expect. */
  reservations(owner: string): [string, string, string];
}

/** The resource key names for `prefix` (already validated). */
export function redisResourceKeys(prefix: string): RedisResourceKeys {
  const { tag } = redisKeyLayout(prefix);
  return {
    rate: (key) => `${tag}:rl:${key}`,
    reservations: (owner) => [`${tag}:rv:${owner}`, `${tag}:rvx:${owner}`, `${tag}:rvu:${owner}`],
  };
}
