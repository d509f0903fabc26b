import { describe, expect, it } from 'vitest';
import type { RedisArgument, RedisScriptClient } from '../../src/adapters/redis/driver.js';
import { defineScript, runScript } from '../../src/adapters/redis/lua.js';
import { createRedisStorage } from '../../src/adapters/redis/index.js';
import { caught } from '../../src/adapters/testing/support.js';

const reply = (text: string): Error => Object.assign(new Error(text), { name: 'ReplyError' });

/** A scripted fake: records calls, answers EVALSHA/EVAL with the given functions. */
function fakeClient(evalsha: (args: RedisArgument[]) => Promise<unknown>, evalSource: (args: RedisArgument[]) => Promise<unknown>) {
  const calls: string[] = [];
  const client: RedisScriptClient = {
    async evalsha(sha1, numkeys, ...args) {
      calls.push(`evalsha ${sha1.slice(0, 8)} ${numkeys}`);
      return evalsha(args);
    },
    async eval(_script, numkeys, ...args) {
      calls.push(`eval ${numkeys}`);
      return evalSource(args);
    },
  };
  return { client, calls };
}

describe('redis script runner', () => {
  const script = defineScript('probe', 'return 1');

  it('addresses a script by the SHA1 of its source', () => {
    expect(script.sha1).toBe('e0e1f9fabfc9d4800c877a703b823ac0578ff8db');
  });

  it('sends the source once when the server answers NOSCRIPT, and not otherwise', async () => {
    const missing = fakeClient(async () => Promise.reject(reply('NOSCRIPT No matching script. Please use EVAL.')), async () => 'ran');
    expect(await runScript(missing.client, script, ['k'], ['a'])).toBe('ran');
    expect(missing.calls).toEqual(['evalsha e0e1f9fa 1', 'eval 1']);

    const cached = fakeClient(async () => 'cached', async () => 'never');
    expect(await runScript(cached.client, script, [], [])).toBe('cached');
    expect(cached.calls).toEqual(['evalsha e0e1f9fa 0']);
  });

  it('does not resend on other errors (the script may have run)', async () => {
    const failing = fakeClient(async () => Promise.reject(reply('ERR user_script:1: boom')), async () => 'never');
    await expect(runScript(failing.client, script, [], [])).rejects.toThrow(/boom/);
    expect(failing.calls).toHaveLength(1);
  });
});

describe('redis storage over a failing client', () => {
  it('wraps driver errors with cause and keeps values out of the message', async () => {
    const socketError = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    const { client } = fakeClient(async () => Promise.reject(socketError), async () => Promise.reject(socketError));
    const storage = createRedisStorage({ client, prefix: 'unit' });
    const err = (await caught(() => storage.put('ns', 'key', { password: 'hunter2' }))) as Error & { code: string; retryable: boolean };
    expect(err.code).toBe('ADAPTER_UNAVAILABLE');
    expect(err.retryable).toBe(true);
    expect(err.cause).toBe(socketError);
    expect(err.message).not.toContain('hunter2');
  });

  it('reports a malformed script reply as INTERNAL', async () => {
    const { client } = fakeClient(async () => 'not an array', async () => 'never');
    const storage = createRedisStorage({ client });
    expect((await caught(() => storage.get('ns', 'k'))).code).toBe('INTERNAL');
  });

  it('validates its options with VALIDATION_FAILED', async () => {
    const { client } = fakeClient(async () => [], async () => []);
    for (const options of [
      {},
      { client: {} },
      { client, prefix: '{x}' },
      { client, prefix: '' },
      { client, logger: {} },
      { client, unknown: true },
      { client: Object.assign(Object.create(client) as object, { options: { keyPrefix: 'app:' } }) },
    ]) {
      expect((await caught(() => createRedisStorage(options as never))).code, JSON.stringify(Object.keys(options))).toBe('VALIDATION_FAILED');
    }
  });
});
