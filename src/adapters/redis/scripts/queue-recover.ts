import { defineQueueScript } from './queue-lib.js';

/**
 * Takes back the tasks of claims whose reply the worker never received (see queue-claim: each
 * claim keeps its task ids for a lease time under <P>claim:<its first token>). A task comes back
 * only while it still runs for the same worker (under one of the leases those claims gave out, or
 * an assignment's lease that one of them started); its lease is renewed to now + lease ms. At
 * most `limit` come back; the others keep their leases, which run out as before. The claims'
 * records are deleted.
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] worker; ARGV[3] limit; ARGV[4] lease ms; ARGV[5] m, the number of claims;
 *          ARGV[6…5+m] their first tokens
 * Reply    tasks, each a string in the claim's row format
 */
export const queueRecoverScript = defineQueueScript(
  'queue-recover',
  `
local worker, limit = ARGV[2], tonumber(ARGV[3])
local expires = NOW + tonumber(ARGV[4])
local expS, nowS = int(expires), int(NOW)
local m = tonumber(ARGV[5])
local tasks = {}
for i = 6, 5 + m do
  local key = P .. 'claim:' .. ARGV[i]
  local recorded = redis.call('GET', key)
  redis.call('DEL', key)
  if recorded then
    for id in string.gmatch(recorded, '[^,]+') do
      if #tasks < limit then
        local tk = taskKey(id)
        local f = redis.call('HMGET', tk, 'state', 'w', 'tok', 'exp')
        -- Its own lease, or its assignment's (a claim starts an assigned task with that token):
        -- the record names what this claim started either way.
        if f[1] == 'running' and f[2] == worker and f[3] and tonumber(f[4]) > NOW then
          redis.call('HSET', tk, 'exp', expS, 'uat', nowS)
          redis.call('ZADD', P .. 'leased', expires, id)
          tasks[#tasks + 1] = claimedRow(id, tk, f[3], expS)
        end
      end
    end
  end
end
return tasks
`,
);
