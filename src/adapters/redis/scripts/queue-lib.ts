import { defineScript, type LuaScript } from '../lua.js';

/**
 * The Lua shared by every queue script, prepended to each (Redis scripts cannot import). It
 * restates the memory backend's bookkeeping (src/adapters/memory/queue-core.ts) and the pure
 * policy (src/tasks/policy/fair-queue.ts) over these keys, all under the adapter's hash tag:
 *
 * ```text
 * <P> = {<prefix>}:q:<queue>:
 * <P>cfg                 hash: mc, aging ('' = off), ret, fret ('' = keep), vt0..vt3 (band virtual
 *                        times), wm1..wm3 (aging watermarks, see the claim script)
 * <P>seq                 INCR: enqueue order
 * <P>t:<id>              hash: one task (state att hn tok exp w tenant type uat res h1 h2, hot fields
 *                        first, see the enqueue script; then owner payload band cb pri cost opts max
 *                        idem ready cat rat seq, and prog err h3…h<hn> when written); the history
 *                        is the enqueue entry (not stored: 'queued' at 'cat'; tasks written by
 *                        earlier versions hold it, or their whole history so far comma-joined, in
 *                        'h') then h1…h<hn>, one per later transition;
 *                        'w', 'tok' and 'exp' describe the lease and mean something only while the
 *                        task is assigned or running; 'ready' (ready or delayed) only while queued
 * <P>rq:<band>:<tenant>  zset: the tenant's ready tasks in the band, score (1000 - priority) * 2^42 + seq
 * <P>bt:<band>           zset: tenants with ready tasks in the band, score = virtual time
 * <P>tb:<band>:<tenant>  hash: v (virtual time), s (since), sv (last served)
 * <P>waiting             zset: ready tasks by readyAt (the oldest waiting task, and aging)
 * <P>delayed             zset: delayed tasks by readyAt
 * <P>leased              zset: assigned and running tasks by lease expiry
 * <P>assigned:<worker>   zset: tasks assigned to a worker, by seq
 * <P>donelog            list: retained completed and cancelled tasks, 'finishedAt FS id,id,…' per
 *                        settling call, oldest first (see retainDone)
 * <P>failed              zset: retained failed and dead tasks by finish time (<P>done: the
 *                        completed ones of earlier versions, likewise)
 * <P>idem                hash: '<tenant>|<key>' → task id
 * <P>ix:<tenant>         zset: every stored task of the tenant, score 0, member = id (lexicographic: the listing order)
 * <P>ten:<tenant>        hash: w mc rate burst tok tokat ready leased
 * <P>tenants             set: tenants with ready or leased tasks
 * <P>cnt                 hash: '<state>|<tenant>|<type>' → count ('delayed|…' counts the delayed subset)
 * <P>notified            flag: a wake-up was published since a claim last came up short
 * <P>r:<request id>      reply of a settling call, kept briefly so a resent call is answered, not re-applied
 * ```
 *
 * Rows of the per-task replies are strings of fields joined by FS (\x1f), read by `fieldsOf` in
 * ../queue.ts.
 *
 * ARGV[1] is always `<P>`; KEYS[1] is `<P>cfg`, declared so that cluster clients route the call
 * (every other key shares its hash tag, hence its slot). Time is the server's (`TIME`).
 */
export const QUEUE_LUA_PRELUDE = `
local P = ARGV[1]
local function key(s) return P .. s end
local T = redis.call('TIME')
local NOW = tonumber(T[1]) * 1000 + math.floor(tonumber(T[2]) / 1000)
local function int(n) return string.format('%.0f', n) end
-- Replies of one row per task (claim, complete, enqueue) send each row as one string, its fields
-- joined by FS (the ASCII unit separator): the client then decodes one bulk string per task
-- instead of up to 16. No field can hold FS: ids, tenants, owners, types and workers are
-- validated identifiers, numbers are digits, and stored JSON escapes control characters.
local FS = '\\31'
local function dbl(n) return string.format('%.17g', n) end
-- Small integers (attempts, history numbers, counter deltas) as strings, formatted once per call:
-- every number argument of redis.call, and every string.format, goes through snprintf, a visible
-- share of a claim's time (perf: 8% of redis-server in printf during a drain).
local ISTR = {}
local function istr(n)
  local s = ISTR[n]
  if s == nil then
    s = int(n)
    ISTR[n] = s
  end
  return s
end
local function opt(v) if v == false or v == nil or v == '' then return nil end return tonumber(v) end
-- Appends 'a' (and 'b', when given) to the list kept under 'key' in 'lists': the per-key batches
-- that scripts gather and then write with one call per key.
local function appendTo(lists, key, a, b)
  local list = lists[key]
  if list == nil then
    list = {}
    lists[key] = list
  end
  list[#list + 1] = a
  if b ~= nil then list[#list + 1] = b end
end
local function taskKey(id) return P .. 't:' .. id end

local function config()
  local c = redis.call('HMGET', P .. 'cfg', 'mc', 'aging', 'ret', 'fret', 'vt0', 'vt1', 'vt2', 'vt3', 'wm1', 'wm2', 'wm3')
  local aging = 60000
  if c[2] ~= false then aging = opt(c[2]) end
  local ret = 3600000
  if c[3] ~= false then ret = tonumber(c[3]) end
  return { mc = opt(c[1]), aging = aging, ret = ret, fret = opt(c[4]),
           vt = { tonumber(c[5] or '0'), tonumber(c[6] or '0'), tonumber(c[7] or '0'), tonumber(c[8] or '0') },
           wm = { opt(c[9]), opt(c[10]), opt(c[11]) } }
end

local function count(state, tenant, ttype, d)
  local f = state .. '|' .. tenant .. '|' .. ttype
  if redis.call('HINCRBY', P .. 'cnt', f, istr(d)) <= 0 then redis.call('HDEL', P .. 'cnt', f) end
end

-- History: the enqueue entry (rebuilt from 'cat' when 'h' is absent, see withHistory; tasks of
-- earlier versions hold it, or their whole history comma-joined, in 'h'), then each later
-- transition in a field of its own, h1…h<hn>. A
-- transition writes one short field instead of reading and rewriting the whole history, and a
-- hash whose fields stay short keeps Redis's compact encoding (a long 'h' converted every task
-- to a hashtable at its first claim). Worker ids and reasons are validated identifiers, so the
-- entries are valid JSON.
local HIST_NAMES = {}
local function histName(n)
  local name = HIST_NAMES[n]
  if name == nil then
    name = 'h' .. int(n)
    HIST_NAMES[n] = name
  end
  return name
end
-- An entry up to its attempt number; scripts that write many entries build this once.
local function histHead(state)
  return '{"s":"' .. state .. '","at":' .. int(NOW) .. ',"a":'
end
local function appendHist(tk, state, attempt, worker, reason)
  local s = histHead(state) .. int(attempt)
  if worker then s = s .. ',"w":"' .. worker .. '"' end
  if reason then s = s .. ',"r":"' .. reason .. '"' end
  redis.call('HSET', tk, histName(redis.call('HINCRBY', tk, 'hn', 1)), s .. '}')
end
-- The whole history, comma-joined, from a task's 'h' and 'hn' fields. Read in slices: hand-backs
-- do not use up attempts, so a history has no fixed bound, and unpack() has one.
local function history(tk, h, hn)
  local n = tonumber(hn) or 0
  if n == 0 then return h end
  local parts = { h }
  for from = 1, n, 500 do
    local names = {}
    for i = from, math.min(n, from + 499) do names[#names + 1] = histName(i) end
    for _, entry in ipairs(redis.call('HMGET', tk, unpack(names))) do
      if entry then parts[#parts + 1] = entry end
    end
  end
  return table.concat(parts, ',')
end
-- A task's fields as the get and list scripts reply with them (the order of taskOfFields in
-- src/adapters/redis/queue.ts), or false when it does not exist. f[22] and f[23] are 'h' and 'hn'
-- until withHistory joins them: a listing filters first, so it reads histories of matches only.
local function taskFields(tk)
  local f = redis.call('HMGET', tk, 'tenant', 'type', 'owner', 'payload', 'band', 'cb', 'pri', 'cost', 'opts', 'max',
    'idem', 'state', 'att', 'cat', 'rat', 'uat', 'w', 'exp', 'prog', 'res', 'err', 'h', 'hn')
  if not f[1] then return false end
  return f
end
local function withHistory(tk, f)
  -- f[14] is 'cat', stored as the enqueue wrote its entry's time.
  f[22] = history(tk, f[22] or ('{"s":"queued","at":' .. f[14] .. ',"a":0}'), f[23])
  f[23] = nil
  return f
end

local function tenantDec(tenant, field)
  local tk = P .. 'ten:' .. tenant
  redis.call('HINCRBY', tk, field, -1)
  local r = redis.call('HMGET', tk, 'ready', 'leased')
  if tonumber(r[1] or '0') <= 0 and tonumber(r[2] or '0') <= 0 then redis.call('SREM', P .. 'tenants', tenant) end
end

local function tenantInc(tenant, field)
  redis.call('HINCRBY', P .. 'ten:' .. tenant, field, 1)
  redis.call('SADD', P .. 'tenants', tenant)
end

-- The ready index's member (rq:<band>:<tenant>) is not the bare id: it carries what a claim
-- delivers, 'id FS att FS hn FS cost FS type FS owner FS band FS cb FS pri FS opts FS max FS cat
-- FS rat FS payload', so a claim reads a task with its ZPOPMIN alone. A listpack hash answers an
-- HMGET by scanning its fields, and the 13-field read this replaces was ~10% of a drain's server
-- time. None of these fields changes while the task is ready (every write to them happens after
-- leaveBand or before enterBand), so the member can always be rebuilt from the hash. A payload
-- over READY_PAYLOAD_MAX bytes stays out (an empty last field): the claim reads it from the hash.
local READY_PAYLOAD_MAX = 256
local READY_FIELDS = '^([^\\31]*)\\31([^\\31]*)\\31([^\\31]*)\\31([^\\31]*)\\31([^\\31]*)\\31(.*)$'
local function readyMember(id, att, hn, cost, ttype, owner, band, cb, pri, opts, max, cat, rat, payload)
  if #payload > READY_PAYLOAD_MAX then payload = '' end
  return id .. FS .. att .. FS .. hn .. FS .. cost .. FS .. ttype .. FS .. owner .. FS .. band .. FS .. cb .. FS ..
    pri .. FS .. opts .. FS .. max .. FS .. cat .. FS .. rat .. FS .. payload
end
local function storedReadyMember(id, tk)
  local f = redis.call('HMGET', tk, 'att', 'hn', 'cost', 'type', 'owner', 'band', 'cb', 'pri', 'opts', 'max', 'cat', 'rat', 'payload')
  return readyMember(id, f[1], f[2] or '0', f[3], f[4], f[5] or '', f[6], f[7], f[8], f[9], f[10], f[11], f[12], f[13])
end
-- A popped member as (id, att, hn, cost, type, rest): rest is the claim row's tail, 'owner FS band
-- FS cb FS pri FS opts FS max FS cat FS rat FS payload', the payload read from the hash when the
-- member left it out. A bare id (a member written by an earlier version) is read from the hash.
local function readyFields(member)
  local id, att, hn, cost, ttype, rest = string.match(member, READY_FIELDS)
  if id == nil then id, att, hn, cost, ttype, rest = string.match(storedReadyMember(member, taskKey(member)), READY_FIELDS) end
  if string.byte(rest, -1) == 31 then rest = rest .. redis.call('HGET', taskKey(id), 'payload') end
  return id, att, hn, cost, ttype, rest
end

local function enterBand(id, tenant, band, pri, seq)
  local rq = P .. 'rq:' .. band .. ':' .. tenant
  redis.call('ZADD', rq, (1000 - pri) * 4398046511104 + seq, storedReadyMember(id, taskKey(id)))
  if redis.call('ZCARD', rq) == 1 then
    local tb = P .. 'tb:' .. band .. ':' .. tenant
    redis.call('HSET', tb, 's', int(NOW))
    redis.call('ZADD', P .. 'bt:' .. band, redis.call('HGET', tb, 'v') or '0', tenant)
  end
end

local function leaveBand(id, tenant, band)
  local rq = P .. 'rq:' .. band .. ':' .. tenant
  if redis.call('ZREM', rq, storedReadyMember(id, taskKey(id))) == 0 then
    -- Defensive: a bare id written by an earlier version, or a member out of step with the hash.
    local prefix = id .. FS
    for _, m in ipairs(redis.call('ZRANGE', rq, 0, -1)) do
      if m == id or string.sub(m, 1, #prefix) == prefix then
        redis.call('ZREM', rq, m)
        break
      end
    end
  end
  if redis.call('EXISTS', rq) == 0 then redis.call('ZREM', P .. 'bt:' .. band, tenant) end
end

-- A queued task becomes claimable (its 'rat' is already stored). A task that became ready in
-- the past (a delayed task activated late) enters the band its wait has already earned.
local function makeReady(id, tenant, band, pri, seq, readyAt, aging)
  local cb = band
  if aging and readyAt < NOW then cb = math.max(0, band - math.floor((NOW - readyAt) / aging)) end
  redis.call('HSET', taskKey(id), 'ready', '1', 'cb', cb)
  enterBand(id, tenant, cb, pri, seq)
  redis.call('ZADD', P .. 'waiting', readyAt, id)
  tenantInc(tenant, 'ready')
end

-- A ready task leaves the ready set (claimed, assigned, cancelled, deleted).
local function unready(id, tenant, band)
  leaveBand(id, tenant, band)
  redis.call('ZREM', P .. 'waiting', id)
  tenantDec(tenant, 'ready')
end

-- Queues a task: delayed until readyAt, or ready now.
local function place(id, tenant, ttype, band, pri, seq, readyAt, aging)
  if readyAt > NOW then
    redis.call('HSET', taskKey(id), 'ready', '0', 'cb', band)
    redis.call('ZADD', P .. 'delayed', readyAt, id)
    count('delayed', tenant, ttype, 1)
  else
    makeReady(id, tenant, band, pri, seq, readyAt, aging)
  end
end

-- Takes a queued task (ready or delayed) out of the queue.
local function unqueue(id, tk, tenant, ttype)
  local f = redis.call('HMGET', tk, 'ready', 'cb')
  if f[1] == '1' then unready(id, tenant, tonumber(f[2]))
  else
    redis.call('ZREM', P .. 'delayed', id)
    count('delayed', tenant, ttype, -1)
  end
end

-- An assigned or running task gives up its slot.
local function releaseSlot(id, tenant, state, worker)
  redis.call('ZREM', P .. 'leased', id)
  if state == 'assigned' and worker and worker ~= '' then redis.call('ZREM', P .. 'assigned:' .. worker, id) end
  tenantDec(tenant, 'leased')
end

local function forgetIdempotency(id, tk, tenant)
  local idem = redis.call('HGET', tk, 'idem')
  if idem and idem ~= '' then
    local f = tenant .. '|' .. idem
    if redis.call('HGET', P .. 'idem', f) == id then redis.call('HDEL', P .. 'idem', f) end
  end
end

-- Completed and cancelled tasks wait out their retention in 'donelog', a list of
-- 'finishedAt FS id,id,…' entries, one per settling call, in time order. It replaced a sorted set
-- scored by finish time: a ZADD into a set of every retained task cost ~1.3 µs per completion
-- (of ~7), one RPUSH per call costs next to nothing, and purging only ever takes the oldest.
local function retainDone(ids)
  redis.call('RPUSH', P .. 'donelog', int(NOW) .. FS .. table.concat(ids, ','))
end

-- Ends a task in a terminal state (counts moved from 'from'), or removes it when retention is 0.
local function finish(id, tk, tenant, ttype, from, state, attempt, reason, c)
  count(from, tenant, ttype, -1)
  local failedKind = state == 'failed' or state == 'dead'
  local ret = c.ret
  if failedKind then ret = c.fret end
  if ret == 0 then
    forgetIdempotency(id, tk, tenant)
    redis.call('DEL', tk)
    redis.call('ZREM', P .. 'ix:' .. tenant, id)
    return
  end
  count(state, tenant, ttype, 1)
  redis.call('HSET', tk, 'state', state, 'uat', int(NOW), 'w', '', 'tok', '', 'exp', '')
  appendHist(tk, state, attempt, nil, reason)
  if failedKind then redis.call('ZADD', P .. 'failed', NOW, id) else retainDone({ id }) end
end

-- Puts a leased task back in the queue (retry, hand-back, expired lease).
local function requeue(id, tk, from, readyAt, attempt, reason, c)
  local f = redis.call('HMGET', tk, 'tenant', 'type', 'band', 'pri', 'seq')
  count(from, f[1], f[2], -1)
  count('queued', f[1], f[2], 1)
  redis.call('HSET', tk, 'state', 'queued', 'att', attempt, 'rat', int(readyAt), 'uat', int(NOW), 'w', '', 'tok', '', 'exp', '')
  appendHist(tk, 'queued', attempt, nil, reason)
  place(id, f[1], f[2], tonumber(f[3]), tonumber(f[4]), tonumber(f[5]), readyAt, c.aging)
end

-- Publishes a wake-up unless one is already pending (the flag is cleared by a claim that came up short).
local function wake(channel)
  if redis.call('SET', P .. 'notified', '1', 'NX') then redis.call('PUBLISH', channel, '{}') end
end

-- Whether freeing a slot of 'tenant' can let a waiting worker claim.
local function capped(c, tenant)
  if c.mc ~= nil then return true end
  return opt(redis.call('HGET', P .. 'ten:' .. tenant, 'mc')) ~= nil
end

-- Expired leases, up to 'limit': re-queued at once while attempts remain, else dead.
local function reap(c, limit)
  local out = {}
  local ids = redis.call('ZRANGEBYSCORE', P .. 'leased', '-inf', NOW, 'LIMIT', 0, limit)
  for _, id in ipairs(ids) do
    local tk = taskKey(id)
    local f = redis.call('HMGET', tk, 'tenant', 'type', 'state', 'att', 'max', 'w')
    local att = tonumber(f[4])
    releaseSlot(id, f[1], f[3], f[6])
    if att >= tonumber(f[5]) then
      redis.call('HSET', tk, 'err', '{"code":"TASK_LEASE_LOST","message":"the lease expired before the task finished"}')
      finish(id, tk, f[1], f[2], f[3], 'dead', att, 'attempts-exhausted', c)
      out[#out + 1] = { id, f[1], f[2], 'dead', int(att), 'attempts-exhausted' }
    else
      requeue(id, tk, f[3], NOW, att, 'lease-expired', c)
      out[#out + 1] = { id, f[1], f[2], 'queued', int(att), 'lease-expired' }
    end
  end
  return out
end

-- ZREM of many members, in slices: unpack() has a bound (a purge may remove 10 000).
local function zremAll(key, members)
  for from = 1, #members, 1000 do
    redis.call('ZREM', key, unpack(members, from, math.min(#members, from + 999)))
  end
end

-- Terminal tasks past their retention, oldest first: completed and cancelled ones (after c.ret;
-- the 'donelog' entries, whole, until at least 'limit' tasks are out), then up to 'limit' failed
-- and dead ones (after c.fret, when set). Counters and listing entries are written once per call.
-- A task deleted meanwhile is skipped. Returns how many were removed.
local function purgeExpired(c, limit)
  local purged = 0
  local counts, unlisted = {}, {}
  local function drop(id, terminal)
    local tk = taskKey(id)
    local f = redis.call('HMGET', tk, 'state', 'tenant', 'type')
    if f[1] and terminal[f[1]] then
      local group = f[1] .. '|' .. f[2] .. '|' .. f[3]
      counts[group] = (counts[group] or 0) - 1
      forgetIdempotency(id, tk, f[2])
      redis.call('DEL', tk)
      appendTo(unlisted, P .. 'ix:' .. f[2], id)
      purged = purged + 1
    end
  end
  local function purge(zkey, retention, terminal)
    if retention == nil then return end
    local ids = redis.call('ZRANGEBYSCORE', zkey, '-inf', NOW - retention, 'LIMIT', 0, limit)
    if #ids == 0 then return end
    for _, id in ipairs(ids) do drop(id, terminal) end
    zremAll(zkey, ids)
  end
  local done = { completed = true, cancelled = true }
  if c.ret ~= nil then
    local logKey, cutoff, taken = P .. 'donelog', NOW - c.ret, 0
    while taken < limit do
      local head = redis.call('LINDEX', logKey, 0)
      if not head then break end
      local sep = string.find(head, FS, 1, true)
      if tonumber(string.sub(head, 1, sep - 1)) > cutoff then break end
      redis.call('LPOP', logKey)
      for id in string.gmatch(string.sub(head, sep + 1), '[^,]+') do
        drop(id, done)
        taken = taken + 1
      end
    end
  end
  -- Tasks retained by earlier versions, in a sorted set by finish time.
  purge(P .. 'done', c.ret, done)
  purge(P .. 'failed', c.fret, { failed = true, dead = true })
  for ix, ids in pairs(unlisted) do zremAll(ix, ids) end
  for group, d in pairs(counts) do
    if redis.call('HINCRBY', P .. 'cnt', group, istr(d)) <= 0 then redis.call('HDEL', P .. 'cnt', group) end
  end
  return purged
end

-- Replay protection for settling calls (as the storage scripts do): ioredis resends commands in
-- flight when a connection drops, and a resent completion must get its first answer, not
-- TASK_LEASE_LOST. 'rid' is a per-call request id; the reply is kept for 'window' ms.
local function replayed(rid)
  if rid == '' then return nil end
  local r = redis.call('GET', P .. 'r:' .. rid)
  if r then return cmsgpack.unpack(r) end
  return nil
end
local function remember(rid, window, reply)
  if rid ~= '' and window ~= '0' then redis.call('SET', P .. 'r:' .. rid, cmsgpack.pack(reply), 'PX', window) end
  return reply
end

-- A delivered task as the claim replies it: one string, fields joined by FS, 'id FS tenant FS
-- type FS attempt FS cost FS token FS expiresAt FS' then the ready member's tail ('owner FS band FS
-- cb FS pri FS opts FS max FS cat FS rat FS payload', see readyFields). The adapter's claimedOf
-- reads this order. One concatenation, no row table.
local function deliveredRow(id, tenant, ttype, attempt, cost, token, expS, rest)
  return id .. FS .. tenant .. FS .. ttype .. FS .. attempt .. FS .. cost .. FS .. token .. FS .. expS .. FS .. rest
end
-- The same row for a task already leased (assigned, or taken back by queue-recover), read from
-- its hash: its stored attempt is the delivery's.
local function claimedRow(id, tk, token, expS)
  local _, att, _, cost, ttype, rest = readyFields(storedReadyMember(id, tk))
  return deliveredRow(id, redis.call('HGET', tk, 'tenant'), ttype, att, cost, token, expS, rest)
end

-- The lease check every settling script makes: 'ok' or why the lease no longer holds.
local function leaseStatus(state, tok, exp, given)
  if not state then return 'not-found' end
  if state ~= 'assigned' and state ~= 'running' then return 'not-active' end
  if tok ~= given then return 'superseded' end
  if tonumber(exp) <= NOW then return 'expired' end
  return 'ok'
end
`;

/** Defines a queue script: the prelude plus its own body. */
export function defineQueueScript(name: string, body: string): LuaScript {
  return defineScript(name, `${QUEUE_LUA_PRELUDE}\n${body}`);
}
