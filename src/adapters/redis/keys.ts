import { z } from 'zod';

/**
 * Key layout of the Redis adapters. Every key of one adapter instance starts with the hash tag
 * `{<prefix>}`, so all of them live in ONE Redis Cluster slot: that is what makes every multi-key
 * Lua script legal on a cluster (and atomic anywhere). The price is that one prefix's keyspace
 * lives on one shard; a host that needs to spread load runs several adapters with different
 * prefixes (e.g. one per tenant group), each landing in its own slot.
 *
 * ```text
 * {df}:rev                    revision counter (INCR) behind every document version
 * {df}:d:<namespace>:<key>    document: hash { v: JSON, n: version, x: expiresAt ms (if any) }
 * {df}:i:<namespace>          listing index: sorted set, all scores 0, members = keys (byte order)
 * {df}:r:<request id>         reply of one storage write, kept briefly so a resent call is not applied twice
 * {df}:c:<key>                cache entry: plain string of bytes, expiry by SET PX
 * df:ps:<channel>             pub/sub channel name (not a key: channels have no slot)
 * ```
 *
 * Namespaces cannot contain `:` (see `namespaceSchema`), so `<namespace>:<key>` is unambiguous
 * even though keys may contain `:`. Keys are sent as UTF-8, whose byte order equals the Unicode
 * code point order the contract lists by.
 */

/**
 * Prefix characters: safe in key names, channel names and glob patterns. No braces: they would
 * move the hash tag. No `:`: channel names may contain `:`, so with `a` and `a:ps` both allowed,
 * `a:ps:ps:x` would be channel `ps:x` of one adapter and channel `x` of the other.
 */
export const redisPrefixSchema = z
  .string()
  .min(1, 'prefix must not be empty')
  .max(64, 'prefix must be at most 64 characters')
  .regex(/^[A-Za-z0-9_.-]+$/, 'prefix may only contain A-Z a-z 0-9 _ . - (no braces: the adapter adds the hash tag)');

/** The default prefix. */
export const DEFAULT_REDIS_PREFIX = 'df';

/** Names of every key and channel one adapter instance uses. */
export interface RedisKeyLayout {
  /** `{<prefix>}`: the hash tag shared by every key. */
  readonly tag: string;
  /** The revision counter every document version is drawn from. */
  readonly revision: string;
  /** The hash holding one document. */
  document(namespace: string, key: string): string;
  /** What {@link RedisKeyLayout.document} puts before the key, for scripts that derive document keys from the index. */
  documentPrefix(namespace: string): string;
  /** The sorted set indexing a namespace's keys for listing. */
  index(namespace: string): string;
  /** The replay record of one storage write call. */
  replay(requestId: string): string;
  /** The string holding one cache entry. */
  cache(key: string): string;
  /** What {@link RedisKeyLayout.cache} puts before the key. */
  readonly cachePrefix: string;
  /** The Redis channel carrying a pub/sub channel. */
  channel(channel: string): string;
  /** What {@link RedisKeyLayout.channel} puts before the channel name. */
  readonly channelPrefix: string;
}

/** The key layout for `prefix` (already validated by {@link redisPrefixSchema}). */
export function redisKeyLayout(prefix: string): RedisKeyLayout {
  const tag = `{${prefix}}`;
  const cachePrefix = `${tag}:c:`;
  const channelPrefix = `${prefix}:ps:`;
  return {
    tag,
    revision: `${tag}:rev`,
    document: (namespace, key) => `${tag}:d:${namespace}:${key}`,
    documentPrefix: (namespace) => `${tag}:d:${namespace}:`,
    index: (namespace) => `${tag}:i:${namespace}`,
    replay: (requestId) => `${tag}:r:${requestId}`,
    cache: (key) => `${cachePrefix}${key}`,
    cachePrefix,
    channel: (channel) => `${channelPrefix}${channel}`,
    channelPrefix,
  };
}

/**
 * Escapes the glob metacharacters of Redis `MATCH`/`KEYS` patterns (`* ? [ ] \`) so `text`
 * matches only itself: a cache prefix like `a*` must not delete `ab`.
 */
export function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, (c) => `\\${c}`);
}
