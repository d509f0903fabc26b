import { createHash } from 'node:crypto';
import type { Logger } from '../../core/logger.js';
import type { RedisArgument, RedisScriptClient } from './driver.js';
import { isNoScript } from './errors.js';

/** A Lua script with its SHA1, as `EVALSHA` addresses it. */
export interface LuaScript {
  /** Short name for logs and error messages. */
  readonly name: string;
  /** The Lua source. */
  readonly source: string;
  /** Hex SHA1 of the source: the name Redis caches it under. */
  readonly sha1: string;
}

/** Wraps a script's source with its SHA1, computed once at module load. */
export function defineScript(name: string, source: string): LuaScript {
  return Object.freeze({ name, source, sha1: createHash('sha1').update(source, 'utf8').digest('hex') });
}

/**
 * Runs `script` by SHA1 and, when the server does not have it cached (`NOSCRIPT`: first use,
 * restart, failover, `SCRIPT FLUSH`), once more with its source, which caches it again. Sending
 * only the SHA on the hot path keeps multi-kilobyte scripts off the wire.
 *
 * A script is atomic, so resending after `NOSCRIPT` never applies anything twice: the first
 * attempt did not run at all.
 */
export async function runScript(
  client: RedisScriptClient,
  script: LuaScript,
  keys: readonly string[],
  args: readonly RedisArgument[],
  logger?: Logger,
): Promise<unknown> {
  try {
    return await client.evalsha(script.sha1, keys.length, ...keys, ...args);
  } catch (err) {
    if (!isNoScript(err)) throw err;
    logger?.debug('redis script not cached on the server; sending its source', { script: script.name });
    return await client.eval(script.source, keys.length, ...keys, ...args);
  }
}
