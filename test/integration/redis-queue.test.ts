import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Redis } from 'ioredis';
import { createRedisQueue } from '../../src/adapters/redis/index.js';
import { queueClaimScript } from '../../src/adapters/redis/scripts/queue-claim.js';
import { queueCompleteScript } from '../../src/adapters/redis/scripts/queue-complete.js';
import type { EnqueueResult, QueueAdapter } from '../../src/adapters/queue.js';
import { closeRedis, connectRedis, deletePrefixKeys, randomPrefix } from '../support/redis-harness.js';
import { skipWithoutServer } from '../support/missing-server.js';

const url = inject('redisUrl');

if (url === '') {
  skipWithoutServer('redis queue: task hash layout and round trips', 'Redis server');
} else {
  describe('redis queue: task hash layout and round trips', () => {
    const prefix = randomPrefix('dflayout');
    let client: Redis;
    let queue: QueueAdapter;
    const taskKey = (id: string) => `{${prefix}}:q:layout:t:${id}`;

    beforeAll(() => {
      client = connectRedis(url);
      queue = createRedisQueue({ client, prefix, queue: 'layout' });
    });
    afterAll(async () => {
      await queue.close();
      await closeRedis(client);
      await deletePrefixKeys(url, prefix);
    });

    it('keeps the record of a claim (for taking back its tasks should the reply be lost) only until the worker claims again', async () => {
      // A queue of its own: the tasks below stay leased.
      const queue = createRedisQueue({ client, prefix, queue: 'records' });
      const claimKeys = async () => (await client.keys(`{${prefix}}:q:records:claim:*`)).length;
      await queue.enqueueMany(Array.from({ length: 6 }, (_, i) => ({ type: 'noop', tenantId: 'acme', payload: i })));
      const first = await queue.claim('worker-records', 2, 60_000);
      expect(first.tasks).toHaveLength(2);
      expect(await claimKeys()).toBe(1);
      // Each claim deletes the record of the previous one, whose reply arrived; an empty claim leaves none.
      expect((await queue.claim('worker-records', 2, 60_000)).tasks).toHaveLength(2);
      expect(await claimKeys()).toBe(1);
      expect((await queue.claim('worker-records', 2, 60_000)).tasks).toHaveLength(2);
      expect((await queue.claim('worker-records', 2, 60_000)).tasks).toHaveLength(0);
      expect(await claimKeys()).toBe(0);
      // A record lives one lease time at most.
      await queue.enqueue({ type: 'noop', tenantId: 'acme', payload: 'last' });
      expect((await queue.claim('worker-other', 1, 60_000)).tasks).toHaveLength(1);
      const [key] = await client.keys(`{${prefix}}:q:records:claim:*`);
      expect(await client.pttl(key!)).toBeGreaterThan(55_000);
      expect(await client.pttl(key!)).toBeLessThanOrEqual(60_000);
      await queue.close();
    });

    it('a claim the client resends after losing its reply returns the tasks of its first run, and claims nothing more', async () => {
      // ioredis sends a command in flight again once it reconnects. The second run used to claim
      // two more tasks: the first two stayed leased to a worker that never saw them until the
      // lease ran out (spending an attempt; one with a single attempt went dead without running).
      const own = connectRedis(url);
      const q = createRedisQueue({ client: own, prefix, queue: 'resent' });
      try {
        await q.enqueueMany(Array.from({ length: 6 }, (_, i) => ({ type: 'noop', tenantId: 'acme', payload: i })));
        const evalsha = own.evalsha.bind(own) as (...args: unknown[]) => Promise<unknown>;
        (own as unknown as { evalsha: (...args: unknown[]) => Promise<unknown> }).evalsha = async (...args: unknown[]) => {
          if (args[0] !== queueClaimScript.sha1) return evalsha(...args);
          await evalsha(...args); // its reply is lost
          return evalsha(...args);
        };
        const { tasks } = await q.claim('w-resent', 2, 60_000);
        expect(tasks.map((t) => t.payload)).toEqual([0, 1]);
        expect(tasks.map((t) => t.attempt)).toEqual([1, 1]);
        expect((await q.stats()).counts).toMatchObject({ queued: 4, running: 2 });
        for (const t of tasks) await q.complete(t.lease);
        // The next claims go on from there (each one resent too).
        expect((await q.claim('w-resent', 2, 60_000)).tasks.map((t) => t.payload)).toEqual([2, 3]);
        expect((await q.stats()).counts).toMatchObject({ queued: 2, running: 2, completed: 2 });
      } finally {
        await q.close();
        await closeRedis(own);
      }
    });

    it('stores the fields claims and completions touch first, so a listpack lookup finds them without scanning the rest', async () => {
      const { task } = await queue.enqueue({ type: 'noop', tenantId: 'acme', payload: { big: 'x'.repeat(40) } });
      const hot = ['state', 'att', 'hn', 'tok', 'exp', 'w', 'tenant', 'type', 'uat', 'res', 'h1', 'h2'];
      expect(Object.keys(await client.hgetall(taskKey(task.taskId))).slice(0, hot.length)).toEqual(hot);
      const { tasks } = await queue.claim('worker-order', 1, 60_000);
      await queue.complete(tasks[0]!.lease, { ok: true });
      // Writes replace the fields in place: the order holds, and nothing is added at the end.
      const fields = await client.hgetall(taskKey(task.taskId));
      expect(Object.keys(fields).slice(0, hot.length)).toEqual(hot);
      expect(Object.keys(fields).at(-1)).toBe('seq');
      expect(fields.res).toBe('{"ok":true}');
      const stored = await queue.get(task.taskId);
      expect(stored!.history.map((h) => h.state)).toEqual(['queued', 'running', 'completed']);
      expect(stored!.result).toEqual({ ok: true });
    });

    it('each transition writes its own short history field, so a task hash keeps the compact encoding', async () => {
      const { task } = await queue.enqueue({ type: 'noop', tenantId: 'acme', payload: null });
      const { tasks } = await queue.claim('worker-1234abcd', 1, 60_000);
      await queue.complete(tasks[0]!.lease, { ok: true });
      const fields = await client.hgetall(taskKey(task.taskId));
      expect(Object.keys(fields)).toEqual(expect.arrayContaining(['hn', 'h1', 'h2']));
      // The enqueue entry is not stored: readers rebuild it from the creation time.
      expect(fields.h).toBeUndefined();
      expect(fields.hn).toBe('2');
      // Redis keeps a hash in its listpack encoding while every value fits hash-max-listpack-value
      // (64 bytes by default); the single growing 'h' field of before exceeded it at the first claim.
      const [, limit] = (await client.config('GET', 'hash-max-listpack-value')) as [string, string];
      for (const value of Object.values(fields)) expect(Buffer.byteLength(value)).toBeLessThanOrEqual(Math.min(64, Number(limit)));
      expect(await client.object('ENCODING', taskKey(task.taskId))).toBe('listpack');
      const stored = await queue.get(task.taskId);
      expect(stored!.history.map((h) => [h.state, h.attempt, h.workerId ?? null])).toEqual([
        ['queued', 0, null],
        ['running', 1, 'worker-1234abcd'],
        ['completed', 1, null],
      ]);
      expect(stored!.history[0]!.at).toBe(stored!.createdAt);
    });

    it('reads a history longer than one Lua unpack() can take (hand-backs use up no attempts, so it is unbounded)', async () => {
      // Delayed, so not in the ready index while its hash is edited (a ready member carries the
      // history count: see readyMember in the Lua prelude); it becomes ready at the claim.
      const { task } = await queue.enqueue({ type: 'noop', tenantId: 'acme', payload: null, delayMs: 20 });
      // 9,000 hand-backs' worth of entries, written directly (9,000 claim/release round trips
      // would only be slower); Lua 5.1's unpack() refuses more than ~8,000 values.
      const key = taskKey(task.taskId);
      const entries: string[] = [];
      for (let i = 1; i <= 9_000; i++) entries.push(`h${i}`, `{"s":"${i % 2 === 1 ? 'running' : 'queued'}","at":${i},"a":${(i + 1) >> 1}}`);
      await client.hset(key, 'hn', '9000', ...entries);
      await new Promise((resolve) => setTimeout(resolve, 30));
      const { tasks } = await queue.claim('w-long', 1, 60_000);
      expect(tasks.map((t) => t.id)).toEqual([task.taskId]);
      const history = (await queue.get(task.taskId))!.history;
      expect(history).toHaveLength(9_002);
      expect(history[9_000]).toMatchObject({ state: 'queued', at: 9_000 });
      expect(history[9_001]).toMatchObject({ state: 'running', workerId: 'w-long' });
      const listed = await queue.list({ tenantId: 'acme', state: 'running' });
      expect(listed.items.find((t) => t.id === task.taskId)!.history).toHaveLength(9_002);
      await queue.complete(tasks[0]!.lease);
    });

    it('a claim goes out ahead of the completions queued in the same turn, so Redis runs them while the worker handles the claim', async () => {
      const own = connectRedis(url);
      const q = createRedisQueue({ client: own, prefix, queue: 'order' });
      try {
        await q.enqueueMany(Array.from({ length: 4 }, () => ({ type: 'noop', tenantId: 'acme', payload: null })));
        const first = await q.claim('w-order', 2, 60_000); // the wake-up subscription is live from here on
        const sent: string[] = [];
        const evalsha = own.evalsha.bind(own) as (...args: unknown[]) => Promise<unknown>;
        (own as unknown as { evalsha: (...args: unknown[]) => Promise<unknown> }).evalsha = (...args: unknown[]) => {
          sent.push(args[0] === queueClaimScript.sha1 ? 'claim' : args[0] === queueCompleteScript.sha1 ? 'complete' : 'other');
          return evalsha(...args);
        };
        // What a worker does in one turn: settle finished tasks, then claim for the freed slots.
        const completions = first.tasks.map((t) => q.complete(t.lease));
        const next = q.claim('w-order', 2, 60_000);
        await Promise.all([...completions, next]);
        expect(sent).toEqual(['claim', 'complete']);
        expect((await next).tasks).toHaveLength(2);
      } finally {
        await q.close();
        await closeRedis(own);
      }
    });

    it('reads and extends the history of a task stored by an earlier version (whole history in one field)', async () => {
      const { task } = await queue.enqueue({ type: 'noop', tenantId: 'acme', payload: null });
      const { tasks } = await queue.claim('w-old', 1, 60_000);
      // Rewrite the hash as earlier versions stored it: every entry so far comma-joined in 'h'.
      const key = taskKey(task.taskId);
      const [cat, h1] = await client.hmget(key, 'cat', 'h1');
      await client.hset(key, 'h', `{"s":"queued","at":${cat},"a":0},${h1}`);
      await client.hdel(key, 'hn', 'h1');
      expect((await queue.get(task.taskId))!.history.map((e) => e.state)).toEqual(['queued', 'running']);
      await queue.fail(tasks[0]!.lease, { error: { code: 'E', message: 'again' }, retryInMs: 0 });
      const [again] = (await queue.claim('w-new', 1, 60_000)).tasks;
      await queue.complete(again!.lease);
      const listed = await queue.list({ tenantId: 'acme', state: 'completed' });
      const mine = listed.items.find((t) => t.id === task.taskId)!;
      expect(mine.history.map((e) => [e.state, e.attempt, e.workerId ?? null, e.reason ?? null])).toEqual([
        ['queued', 0, null, null],
        ['running', 1, 'w-old', null],
        ['queued', 1, null, 'retry'],
        ['running', 2, 'w-new', null],
        ['completed', 2, null, null],
      ]);
    });

    it('a claim reads each ready task from its ready-index member; a payload too long for the member is read from the task', async () => {
      const own = createRedisQueue({ client, prefix, queue: 'members' });
      const long = { text: 'y'.repeat(300) };
      const short = { n: 1, s: 'a\u001fb' };
      const [{ task: a }, { task: b }] = (await own.enqueueMany([
        { type: 'noop', tenantId: 'acme', payload: short, priority: 7, ownerId: 'owner-1', maxAttempts: 4 },
        { type: 'noop', tenantId: 'acme', payload: long },
      ])) as [EnqueueResult, EnqueueResult];
      const members = await client.zrange(`{${prefix}}:q:members:rq:2:acme`, '0', '-1');
      expect(members).toHaveLength(2);
      expect(members[0]!.startsWith(`${a.taskId}\x1f`)).toBe(true);
      expect(members[0]!.endsWith(JSON.stringify(short))).toBe(true);
      expect(members[1]!.endsWith('\x1f')).toBe(true);
      const { tasks } = await own.claim('w-members', 2, 60_000);
      const byId = new Map(tasks.map((t) => [t.id, t]));
      expect(byId.get(a.taskId)).toMatchObject({ payload: short, priority: 7, ownerId: 'owner-1', maxAttempts: 4, attempt: 1, tenantId: 'acme' });
      expect(byId.get(b.taskId)).toMatchObject({ payload: long, priority: 0, ownerId: null, attempt: 1 });
      for (const t of tasks) await own.complete(t.lease);
      await own.close();
    });

    it('claims, cancels and assigns tasks whose ready member an earlier version wrote (the bare id)', async () => {
      const own = createRedisQueue({ client, prefix, queue: 'bare' });
      const made = (await own.enqueueMany(Array.from({ length: 3 }, (_, i) => ({ type: 'noop', tenantId: 'acme', payload: { i } })))).map((r) => r.task);
      const rq = `{${prefix}}:q:bare:rq:2:acme`;
      for (const [member, score] of chunk(await client.zrange(rq, '0', '-1', 'WITHSCORES'))) {
        await client.zrem(rq, member);
        await client.zadd(rq, score, member.slice(0, member.indexOf('\x1f')));
      }
      await own.cancel(made[0]!.taskId);
      await own.assign(made[1]!.taskId, 'w-bare', 60_000);
      expect(await client.zrange(rq, '0', '-1')).toEqual([made[2]!.taskId]);
      const { tasks } = await own.claim('w-bare', 5, 60_000);
      expect(tasks.map((t) => [t.id, t.payload])).toEqual([
        [made[1]!.taskId, { i: 1 }],
        [made[2]!.taskId, { i: 2 }],
      ]);
      for (const t of tasks) await own.complete(t.lease);
      expect((await own.stats()).counts).toMatchObject({ queued: 0, running: 0, completed: 2, cancelled: 1 });
      await own.close();
    });

    it('retains completions in a time-ordered log, an entry per settling call; a purge skips tasks deleted meanwhile and empties the sorted set of earlier versions', async () => {
      const own = createRedisQueue({ client, prefix, queue: 'retain' });
      const key = (name: string) => `{${prefix}}:q:retain:${name}`;
      await own.configure({ retentionMs: 300 });
      const made = (await own.enqueueMany(Array.from({ length: 5 }, (_, i) => ({ type: 'noop', tenantId: 'acme', payload: i })))).map((r) => r.task.taskId);
      const { tasks } = await own.claim('w-retain', 5, 60_000);
      const [late, ...first] = tasks;
      await Promise.all(first.map((t) => own.complete(t.lease)));
      const log = await client.lrange(key('donelog'), '0', '-1');
      expect(log).toHaveLength(1);
      expect(log[0]!.split('\x1f')[1]!.split(',').sort()).toEqual(first.map((t) => t.id).sort());
      // One of them deleted before its retention ends; the last one retained the earlier versions' way.
      expect(await own.delete(first[0]!.id)).toBe(true);
      await own.complete(late!.lease);
      const [entry] = await client.rpop(key('donelog'), 1) as string[];
      await client.zadd(key('done'), entry!.split('\x1f')[0]!, late!.id);
      expect((await own.stats()).counts.completed).toBe(4);
      await new Promise((resolve) => setTimeout(resolve, 400));
      expect((await own.reapExpired()).purged).toBe(4);
      for (const id of made) expect(await own.get(id)).toBeNull();
      expect((await own.stats()).counts.completed).toBe(0);
      expect(await client.exists(key('donelog'), key('done'))).toBe(0);
      await own.close();
    });

    it('a background sweep removes expired tasks of a queue nobody works on, and stops at close()', async () => {
      const swept = createRedisQueue({ client, prefix, queue: 'swept', sweepIntervalMs: 50 });
      try {
        await swept.configure({ retentionMs: 100 });
        await swept.enqueueMany([{ type: 'noop', tenantId: 'acme', payload: null }, { type: 'noop', tenantId: 'acme', payload: null }]);
        const { tasks } = await swept.claim('w', 2, 60_000);
        for (const t of tasks) await swept.complete(t.lease);
        expect((await swept.stats()).counts.completed).toBe(2);
        // No call of ours from here on: only the adapter's timer can remove them.
        const deadline = Date.now() + 5_000;
        while (Date.now() < deadline && (await client.exists(`{${prefix}}:q:swept:t:${tasks[0]!.id}`)) === 1) {
          await new Promise((resolve) => setTimeout(resolve, 50));
        }
        expect(await swept.get(tasks[0]!.id)).toBeNull();
        expect((await swept.stats()).counts.completed).toBe(0);
      } finally {
        await swept.close();
      }
      // Closed: a task that expires afterwards stays until someone maintains the queue.
      const reader = createRedisQueue({ client, prefix, queue: 'swept', sweepIntervalMs: 0 });
      try {
        const [created] = await reader.enqueueMany([{ type: 'noop', tenantId: 'acme', payload: null }]);
        const { tasks } = await reader.claim('w', 1, 60_000);
        await reader.complete(tasks[0]!.lease);
        await new Promise((resolve) => setTimeout(resolve, 300));
        expect((await reader.get(created!.task.taskId))?.state).toBe('completed');
      } finally {
        await reader.close();
      }
    });

    it('rejects a bad sweep interval with VALIDATION_FAILED', () => {
      expect(() => createRedisQueue({ client, prefix, sweepIntervalMs: -1 })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
      expect(() => createRedisQueue({ client, prefix, sweepIntervalMs: 1.5 })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
    });
  });
}

/** [member, score] pairs of a ZRANGE … WITHSCORES reply. */
function chunk(flat: string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i < flat.length; i += 2) pairs.push([flat[i]!, flat[i + 1]!]);
  return pairs;
}
