import { defineQueueScript } from './queue-lib.js';

/**
 * Enqueues a batch atomically (a batch of one for `enqueue`).
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] wake-up channel; ARGV[3] n
 * ARGV[4…] n × 13: id, tenant, type, owner ('' = none), payload JSON, band, priority, cost,
 *          options JSON, maxAttempts, idempotency key ('' = none), runAt ('' = none), delayMs
 * Reply    n × 'id FS created (1|0) FS state FS attempt FS at FS readyAt' (see FS in the prelude):
 *          a duplicate key (retained, or earlier in the batch) answers with the existing task and
 *          writes nothing.
 */
export const queueEnqueueScript = defineQueueScript(
  'queue-enqueue',
  `
local c = config()
local n = tonumber(ARGV[3])
local out = {}
local created = false
-- Counters and tenant totals are summed over the batch and written once; a tenant-band's
-- emptiness is checked once per batch. Sorted-set entries are gathered per key and added with one
-- ZADD each, and the enqueue order is drawn once for the batch: each redis.call has a fixed cost
-- (its arguments become Redis objects, its reply a Lua value) next to which one entry is cheap.
local counts = {}
local readyOf = {}
local seen = {}
local adds = {}
local function countLater(f, d) counts[f] = (counts[f] or 0) + d end
local function addLater(key, score, member) appendTo(adds, key, score, member) end
-- Gaps (duplicates take none) are harmless: seq only orders tasks.
local seqBase = redis.call('INCRBY', P .. 'seq', n) - n
for i = 0, n - 1 do
  local a = 4 + i * 13
  local id, tenant, ttype, idem = ARGV[a], ARGV[a + 1], ARGV[a + 2], ARGV[a + 10]
  local existing = false
  -- Ids are minted per call: finding one means this call was resent after a dropped connection
  -- and already applied.
  if redis.call('EXISTS', taskKey(id)) == 1 then existing = id end
  if not existing and idem ~= '' then existing = redis.call('HGET', P .. 'idem', tenant .. '|' .. idem) end
  if existing then
    local f = redis.call('HMGET', taskKey(existing), 'state', 'att', 'uat', 'rat')
    out[#out + 1] = existing .. FS .. (existing == id and '1' or '0') .. FS .. (f[1] or '') .. FS .. (f[2] or '') .. FS .. (f[3] or '') .. FS .. (f[4] or '')
  else
    local readyAt = NOW + tonumber(ARGV[a + 12])
    if ARGV[a + 11] ~= '' then readyAt = tonumber(ARGV[a + 11]) end
    -- Band and priority are stored as sent, the strings the ready member carries (readyMember).
    local bandS, priS = ARGV[a + 5], ARGV[a + 6]
    local band, pri = tonumber(bandS), tonumber(priS)
    local seq = seqBase + i + 1
    local ready = readyAt <= NOW
    local nowS, readyS = int(NOW), int(readyAt)
    -- Field order is lookup cost: a listpack hash finds a field by scanning from its start, and a
    -- write to a missing field scans it all before appending. So the fields that claims and
    -- completions read and write come first, those they fill in (lease, result, the first two
    -- history entries) already there, empty (hn says how many entries hold something). The
    -- enqueue entry of the history is not stored: it is 'queued' at 'cat', attempt 0, and the
    -- readers rebuild it (withHistory), ~46 bytes less per task.
    redis.call('HSET', taskKey(id), 'state', 'queued', 'att', '0', 'hn', '0', 'tok', '', 'exp', '', 'w', '', 'tenant', tenant,
      'type', ttype, 'uat', nowS, 'res', '', 'h1', '', 'h2', '', 'owner', ARGV[a + 3], 'payload', ARGV[a + 4], 'band', bandS, 'cb', bandS, 'pri', priS,
      'cost', ARGV[a + 7], 'opts', ARGV[a + 8], 'max', ARGV[a + 9], 'idem', idem, 'ready', ready and '1' or '0', 'cat', nowS,
      'rat', readyS, 'seq', seq)
    if idem ~= '' then redis.call('HSET', P .. 'idem', tenant .. '|' .. idem, id) end
    addLater(P .. 'ix:' .. tenant, 0, id)
    countLater('queued|' .. tenant .. '|' .. ttype, 1)
    if ready then
      local rq = P .. 'rq:' .. band .. ':' .. tenant
      local first = false
      if not seen[rq] then
        seen[rq] = true
        first = redis.call('EXISTS', rq) == 0
      end
      addLater(rq, (1000 - pri) * 4398046511104 + seq,
        readyMember(id, '0', '0', ARGV[a + 7], ttype, ARGV[a + 3], bandS, bandS, priS, ARGV[a + 8], ARGV[a + 9], nowS, readyS, ARGV[a + 4]))
      if first then
        local tb = P .. 'tb:' .. band .. ':' .. tenant
        redis.call('HSET', tb, 's', int(NOW))
        redis.call('ZADD', P .. 'bt:' .. band, redis.call('HGET', tb, 'v') or '0', tenant)
      end
      addLater(P .. 'waiting', readyAt, id)
      readyOf[tenant] = (readyOf[tenant] or 0) + 1
    else
      addLater(P .. 'delayed', readyAt, id)
      countLater('delayed|' .. tenant .. '|' .. ttype, 1)
    end
    created = true
    out[#out + 1] = id .. FS .. '1' .. FS .. 'queued' .. FS .. '0' .. FS .. int(NOW) .. FS .. int(readyAt)
  end
end
-- In slices of 1,000 entries: unpack() has a bound.
for key, list in pairs(adds) do
  for from = 1, #list, 2000 do redis.call('ZADD', key, unpack(list, from, math.min(#list, from + 1999))) end
end
for f, d in pairs(counts) do redis.call('HINCRBY', P .. 'cnt', f, d) end
for tenant, d in pairs(readyOf) do
  redis.call('HINCRBY', P .. 'ten:' .. tenant, 'ready', d)
  redis.call('SADD', P .. 'tenants', tenant)
end
if created then wake(ARGV[2]) end
return out
`,
);
