import { defineQueueScript } from './queue-lib.js';

/**
 * Hands a leased task back unfinished: `queued` after the delay, the attempt given back.
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] channel; ARGV[3] id; ARGV[4] token; ARGV[5] delay ms; ARGV[6] request id;
 * ARGV[7]  replay window ms
 * Reply    { status, state, tenant, type, attempt, at, readyAt, reason }
 */
export const queueReleaseScript = defineQueueScript(
  'queue-release',
  `
local rid, window = ARGV[6], ARGV[7]
local again = replayed(rid)
if again then return again end
local c = config()
local id, token = ARGV[3], ARGV[4]
local tk = taskKey(id)
local f = redis.call('HMGET', tk, 'state', 'tok', 'exp', 'tenant', 'type', 'att', 'w')
local status = leaseStatus(f[1], f[2], f[3], token)
if status ~= 'ok' then return { status, f[1] or '', f[4] or '', f[5] or '', f[6] or '0', int(NOW), '', '' } end
local att = math.max(0, tonumber(f[6]) - 1)
releaseSlot(id, f[4], f[1], f[7])
local readyAt = NOW + tonumber(ARGV[5])
requeue(id, tk, f[1], readyAt, att, 'released', c)
wake(ARGV[2])
return remember(rid, window, { 'ok', 'queued', f[4], f[5], int(att), int(NOW), int(readyAt), 'released' })
`,
);
