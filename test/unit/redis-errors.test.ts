import { describe, expect, it } from 'vitest';
import { AdapterClosedError, ConflictError, isFabricaError } from '../../src/core/errors.js';
import { isNoScript, isUnavailable, mapRedisError, replyCode, SCRIPT_ERROR } from '../../src/adapters/redis/errors.js';

// Fabricated errors shaped like what ioredis and Node really throw: ioredis' ReplyError carries
// the server's reply as its message; socket errors carry a Node `code`; client-side failures
// have a class name or a fixed message.
const reply = (text: string): Error => Object.assign(new Error(text), { name: 'ReplyError' });
const socket = (code: string): Error => Object.assign(new Error(`connect ${code} 127.0.0.1:6379`), { code, errno: -1, syscall: 'connect' });
const named = (name: string, message: string): Error => Object.assign(new Error(message), { name });

const SECRET = 'hunter2-secret-value';

describe('redis error mapping', () => {
  const unavailable: [string, unknown][] = [
    ['connection refused', socket('ECONNREFUSED')],
    ['connection reset', socket('ECONNRESET')],
    ['broken pipe', socket('EPIPE')],
    ['socket timeout', socket('ETIMEDOUT')],
    ['host unreachable', socket('EHOSTUNREACH')],
    ['DNS failure', socket('ENOTFOUND')],
    ['"Connection is closed."', new Error('Connection is closed.')],
    ['offline queue disabled', new Error("Stream isn't writeable and enableOfflineQueue options is false")],
    ['MaxRetriesPerRequestError', named('MaxRetriesPerRequestError', 'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.')],
    ['command timeout', new Error('Command timed out')],
    ['ClusterAllFailedError', named('ClusterAllFailedError', 'Failed to refresh slots cache.')],
    ['LOADING', reply('LOADING Redis is loading the dataset in memory')],
    ['BUSY script', reply('BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE.')],
    ['CLUSTERDOWN', reply('CLUSTERDOWN The cluster is down')],
    ['TRYAGAIN', reply('TRYAGAIN Multiple keys request during rehashing of slot')],
    ['MASTERDOWN', reply('MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to no')],
    ['READONLY after failover', reply("READONLY You can't write against a read only replica.")],
    ['OOM', reply("OOM command not allowed when used memory > 'maxmemory'.")],
    ['a wrapped socket error', Object.assign(new Error('wrapper'), { cause: socket('ECONNRESET') })],
  ];

  for (const [what, err] of unavailable) {
    it(`maps ${what} to retryable ADAPTER_UNAVAILABLE with the original as cause`, () => {
      expect(isUnavailable(err)).toBe(true);
      const mapped = mapRedisError(err, 'storage.get');
      expect(mapped.code).toBe('ADAPTER_UNAVAILABLE');
      expect(mapped.retryable).toBe(true);
      expect(mapped.cause).toBe(err);
    });
  }

  it('maps the non-number counter reply of the add script to CONFLICT, with the given details', () => {
    const err = reply(`${SCRIPT_ERROR.notANumber} counter document holds a non-number value`);
    const mapped = mapRedisError(err, 'storage.add', { namespace: 'ns', key: 'k' });
    expect(mapped).toBeInstanceOf(ConflictError);
    expect(mapped.code).toBe('CONFLICT');
    expect(mapped.details).toEqual({ namespace: 'ns', key: 'k' });
    expect(mapped.cause).toBe(err);
  });

  it('maps anything else to INTERNAL, not retryable, with the original as cause', () => {
    for (const err of [reply('WRONGTYPE Operation against a key holding the wrong kind of value'), reply('ERR user_script:1: boom'), new TypeError('x is undefined'), 'a string', null, 42]) {
      const mapped = mapRedisError(err, 'storage.txn');
      expect(mapped.code).toBe('INTERNAL');
      expect(mapped.retryable).toBe(false);
      expect(mapped.cause).toBe(err);
    }
  });

  it('passes our own FabricaErrors through unchanged', () => {
    const own = new AdapterClosedError();
    expect(mapRedisError(own, 'storage.get')).toBe(own);
  });

  it('never copies the driver message (which may quote values) into ours', () => {
    for (const err of [reply(`ERR something about ${SECRET}`), socket('ECONNRESET'), new Error(`Connection is closed. ${SECRET}`)]) {
      const mapped = mapRedisError(err, 'cache.set');
      expect(isFabricaError(mapped)).toBe(true);
      expect(mapped.message).not.toContain(SECRET);
      expect(JSON.stringify(mapped.toJSON())).not.toContain(SECRET);
    }
  });

  it('reads the reply code as the first upper-case word only', () => {
    expect(replyCode(reply('NOSCRIPT No matching script. Please use EVAL.'))).toBe('NOSCRIPT');
    expect(replyCode(new Error('Connection is closed.'))).toBeUndefined();
    expect(replyCode({})).toBeUndefined();
    expect(isNoScript(reply('NOSCRIPT No matching script. Please use EVAL.'))).toBe(true);
    expect(isNoScript(reply('ERR unknown command'))).toBe(false);
    expect(isUnavailable(reply('NOSCRIPT No matching script.'))).toBe(false);
  });
});
