import { defineQueueScript } from './queue-lib.js';

/**
 * The claim: the QueueAdapter contract's order, in one atomic step.
 * 1. reap expired leases; activate due delayed tasks; promote aged tasks (watermarks, below);
 * 2. hand out the tasks assigned to this worker;
 * 3. fair picks up to the global cap: per band (highest first) the tenant with the smallest
 *    virtual time (ties: member order = tenant id bytes) that is under its concurrency cap and
 *    has a rate token; start tag S = max(vtime, V_band); V_band = S; vtime = S + cost / weight;
 *    within the tenant the lowest score (priority, then FIFO). Skipped tenants go back afterwards.
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] worker; ARGV[3] limit; ARGV[4] lease ms; ARGV[5] channel;
 * ARGV[6…] limit lease tokens (the first also names the claim: <P>claim:<token> keeps its task
 *          ids for a lease time, see queue-recover, and makes a resent claim return the tasks of
 *          its first run instead of claiming more); ARGV[6+limit] the first token of the worker's
 *          previous claim whose reply arrived ('' = none), whose record is deleted
 * Reply    { reaped: { id, tenant, type, state, attempt, reason }…,
 *            tasks: 'id FS tenant FS type FS attempt FS cost FS token FS expiresAt FS owner FS band FS
 *                    curBand FS priority FS options FS maxAttempts FS createdAt FS readyAt FS payload'…
 *                    (one string per task, see deliveredRow in the prelude),
 *            next: ms until something may become claimable ('' = nothing scheduled or full claim),
 *            at: the server time (when the reaped tasks were re-queued) }
 */
export const queueClaimScript = defineQueueScript(
  'queue-claim',
  `
local c = config()
local worker, limit, leaseMs = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])

-- This very claim ran before (its tokens are fresh per call, so a record under its first token
-- means that): the client sent it again after losing the reply, as ioredis does for commands in
-- flight when it reconnects. Claiming anew would leave the first run's tasks leased to a worker
-- that never saw them until the lease ran out, spending an attempt (a task with one attempt went
-- dead without having run). So the first run's tasks are handed out again, those still running
-- for this worker under that delivery, and nothing else; a short claim, so the worker claims again.
local earlier = redis.call('GET', P .. 'claim:' .. ARGV[6])
if earlier then
  local again = {}
  for id in string.gmatch(earlier, '[^,]+') do
    local tk = taskKey(id)
    local f = redis.call('HMGET', tk, 'state', 'w', 'tok', 'exp')
    if f[1] == 'running' and f[2] == worker and f[3] and tonumber(f[4]) > NOW then again[#again + 1] = claimedRow(id, tk, f[3], f[4]) end
  end
  return { {}, again, #again < limit and '0' or '', int(NOW) }
end

local reaped = reap(c, 1000)
if #reaped > 0 then wake(ARGV[5]) end

-- Due delayed tasks become ready.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'delayed', '-inf', NOW, 'LIMIT', 0, 1000)) do
  local f = redis.call('HMGET', taskKey(id), 'tenant', 'type', 'cb', 'pri', 'seq', 'rat')
  redis.call('ZREM', P .. 'delayed', id)
  count('delayed', f[1], f[2], -1)
  makeReady(id, f[1], tonumber(f[3]), tonumber(f[4]), tonumber(f[5]), tonumber(f[6]), c.aging)
end

-- Aging by watermarks instead of a per-task index: step k (k = 1..3) moves a ready task to band
-- max(0, band - k) once it has waited k * agingMs, the rule of the other backends. 'waiting'
-- orders ready tasks by readyAt; wm<k> records up to which readyAt step k was applied, so each
-- task is visited at most three times in its life and a claim never removes an aging entry.
if c.aging then
  local budget = 1000
  local wmChanged = false
  for k = 1, 3 do
    local upto = NOW - k * c.aging
    local from = c.wm[k]
    if budget > 0 and (from == nil or upto > from) then
      local lower = from == nil and '-inf' or '(' .. int(from)
      local rows = redis.call('ZRANGEBYSCORE', P .. 'waiting', lower, upto, 'WITHSCORES', 'LIMIT', 0, budget)
      local last = upto
      if #rows / 2 == budget then
        -- Cut by the budget: finish every task sharing the last readyAt, so the watermark can pass it.
        last = tonumber(rows[#rows])
        local tied = redis.call('ZRANGEBYSCORE', P .. 'waiting', last, last)
        for _, id in ipairs(tied) do
          rows[#rows + 1] = id
          rows[#rows + 1] = last
        end
      end
      for i = 1, #rows, 2 do
        local id = rows[i]
        local tk = taskKey(id)
        local f = redis.call('HMGET', tk, 'band', 'cb', 'tenant', 'pri', 'seq')
        local target = math.max(0, tonumber(f[1]) - k)
        if tonumber(f[2]) > target then
          leaveBand(id, f[3], tonumber(f[2]))
          redis.call('HSET', tk, 'cb', target)
          enterBand(id, f[3], target, tonumber(f[4]), tonumber(f[5]))
        end
      end
      budget = budget - #rows / 2
      c.wm[k] = last
      wmChanged = true
    end
  end
  if wmChanged then
    redis.call('HSET', P .. 'cfg', 'wm1', c.wm[1] and int(c.wm[1]) or '', 'wm2', c.wm[2] and int(c.wm[2]) or '', 'wm3', c.wm[3] and int(c.wm[3]) or '')
  end
end

local tasks = {}
-- The ids handed out, kept for a lease time under the claim's first token: if the reply is lost,
-- the worker's next claim takes them back (queue-recover) instead of leaving them idle until the
-- lease runs out.
local claimedIds = {}
local function deliver(id, tk, token, expires)
  claimedIds[#claimedIds + 1] = id
  tasks[#tasks + 1] = claimedRow(id, tk, token, int(expires))
end

-- Tasks an operator assigned to this worker.
local expires = NOW + leaseMs
local assignedKey = P .. 'assigned:' .. worker
for _, id in ipairs(redis.call('ZRANGE', assignedKey, 0, limit - 1)) do
  local tk = taskKey(id)
  local f = redis.call('HMGET', tk, 'tenant', 'type', 'att', 'tok')
  redis.call('ZREM', assignedKey, id)
  count('assigned', f[1], f[2], -1)
  count('running', f[1], f[2], 1)
  redis.call('HSET', tk, 'state', 'running', 'exp', int(expires), 'uat', int(NOW))
  appendHist(tk, 'running', tonumber(f[3]), worker, nil)
  redis.call('ZADD', P .. 'leased', expires, id)
  deliver(id, tk, f[4], expires)
end

-- Fair picks. The band's candidate tenants are read once, in virtual-time order (the bt sorted
-- set), and the start-time choice runs over them in Lua: only the first 'avail' eligible tenants
-- by virtual time can hold any of the 'avail' smallest start tags, so the window is exact. Per
-- task that leaves its pop (ZPOPMIN, whose member carries the task's fields: see readyMember) and
-- its new state (HSET); leases (ZADD),
-- the waiting index (ZREM), tenants, counters and tenant-band hashes are written once.
local avail = limit - #tasks
if c.mc then avail = math.min(avail, c.mc - redis.call('ZCARD', P .. 'leased')) end
local tenants = {}
local function tenantOf(name)
  local t = tenants[name]
  if t == nil then
    local f = redis.call('HMGET', P .. 'ten:' .. name, 'w', 'mc', 'rate', 'burst', 'tok', 'tokat', 'leased', 'ready')
    t = { w = tonumber(f[1] or '1'), mc = opt(f[2]), rate = opt(f[3]), burst = tonumber(f[4] or '1'),
          tok = tonumber(f[5] or '1'), tokat = tonumber(f[6] or '0'), leased = tonumber(f[7] or '0'),
          ready = tonumber(f[8] or '0'), served = 0, bands = {} }
    tenants[name] = t
  end
  return t
end
-- Byte order, as the sorted sets order members (Lua's '<' on strings follows the locale).
local function before(a, b)
  local n = math.min(#a, #b)
  for i = 1, n do
    local x, y = string.byte(a, i), string.byte(b, i)
    if x ~= y then return x < y end
  end
  return #a < #b
end
-- Candidate order within a band: virtual time, then tenant id bytes (as a rank).
local function earlier(a, b) return a.v < b.v or (a.v == b.v and a.r < b.r) end
local function siftDown(heap, size, i)
  local item = heap[i]
  while true do
    local child = 2 * i
    if child > size then break end
    if child < size and earlier(heap[child + 1], heap[child]) then child = child + 1 end
    if not earlier(heap[child], item) then break end
    heap[i] = heap[child]
    i = child
  end
  heap[i] = item
end
local function eligible(t)
  if t.mc and t.leased >= t.mc then return false end
  if t.rate then
    t.tok = math.min(t.burst, t.tok + math.max(0, NOW - t.tokat) * t.rate / 1000)
    t.tokat = math.max(t.tokat, NOW)
    t.tokDirty = true
    if t.tok < 1 then
      t.rateSkipped = true
      return false
    end
  end
  return true
end
local counts = {}
local function countLater(f, d) counts[f] = (counts[f] or 0) + d end
-- Leases (all with one expiry) and waiting-index removals are written once per claim.
local leasedArgs, unwaited = {}, {}
-- Tasks started per tenant, then type: the counters move by these sums once at the end.
local started = {}
-- Numbers formatted once: Lua formats a number through sprintf each time it becomes a string.
local nowS, expS = int(NOW), int(expires)
-- Each pick's history entry is runningHead .. attempt .. runningTail.
local runningHead, runningTail = histHead('running'), ',"w":"' .. worker .. '"}'
local vtChanged = false
local tokenIndex = 6
local band = 0
while avail > 0 and band <= 3 do
  local btKey = P .. 'bt:' .. band
  -- Tenants behind the band's virtual time (re-entered, or skipped at a cap while others were
  -- served) start at it: moved up to it, candidates in score order are in start-tag order, ties
  -- by id, and the window below is exact. Few are ever behind; the range reads only them.
  local vb = dbl(c.vt[band + 1])
  for _, name in ipairs(redis.call('ZRANGEBYSCORE', btKey, '-inf', '(' .. vb)) do
    redis.call('ZADD', btKey, vb, name)
    redis.call('HSET', P .. 'tb:' .. band .. ':' .. name, 'v', vb)
  end
  -- Candidates: { name, vtime, left, t } of eligible tenants, read in order until 'avail' are found.
  local cands = {}
  local offset = 0
  while #cands < avail do
    local rows = redis.call('ZRANGE', btKey, offset, offset + avail - #cands + 7, 'WITHSCORES')
    if #rows == 0 then break end
    offset = offset + #rows / 2
    for i = 1, #rows, 2 do
      local t = tenantOf(rows[i])
      if #cands < avail and eligible(t) then cands[#cands + 1] = { name = rows[i], v = tonumber(rows[i + 1]), t = t } end
    end
  end
  if #cands == 0 then
    band = band + 1
  else
    -- Ties on virtual time go by tenant id bytes: rank the candidates by name once, so each pick
    -- compares numbers only.
    local byName = {}
    for i, cand in ipairs(cands) do byName[i] = cand end
    table.sort(byName, function(a, b) return before(a.name, b.name) end)
    for i, cand in ipairs(byName) do cand.r = i end
    -- The candidates as a binary min-heap by (virtual time, name rank): each pick costs O(log c)
    -- instead of a scan of every candidate (a claim of 500 over 500 tenants scanned 250,000 times).
    local heap, size = {}, #cands
    for i, cand in ipairs(cands) do heap[i] = cand end
    for i = math.floor(size / 2), 1, -1 do siftDown(heap, size, i) end
    while avail > 0 and size > 0 do
      local best = heap[1]
      local t = best.t
      local rq = best.rq
      if rq == nil then
        rq = P .. 'rq:' .. band .. ':' .. best.name
        best.rq = rq
        best.left = redis.call('ZCARD', rq)
      end
      local member = redis.call('ZPOPMIN', rq)[1]
      if member == nil then
        -- Defensive: an index saying 'ready' over an empty set would otherwise fail the script.
        best.left = 0
        redis.call('ZREM', btKey, best.name)
      else
        best.left = best.left - 1
        local id, att, hn, cost, ttype, rest = readyFields(member)
        local tk = taskKey(id)
        local start = math.max(best.v, c.vt[band + 1])
        c.vt[band + 1] = start
        vtChanged = true
        best.v = start + tonumber(cost) / t.w
        best.served = true
        unwaited[#unwaited + 1] = id
        t.leased = t.leased + 1
        t.served = t.served + 1
        if t.rate then t.tok = t.tok - 1 end
        -- A cap reached mid-call takes the tenant out of this claim (and out of the other bands').
        if (t.mc and t.leased >= t.mc) or (t.rate and t.tok < 1) then
          if t.rate and t.tok < 1 then t.rateSkipped = true end
          best.ok = false
        end
        local attempt = istr(tonumber(att) + 1)
        local token = ARGV[tokenIndex]
        tokenIndex = tokenIndex + 1
        claimedIds[#claimedIds + 1] = id
        local byType = started[best.name]
        if byType == nil then
          byType = {}
          started[best.name] = byType
        end
        byType[ttype] = (byType[ttype] or 0) + 1
        local n = tonumber(hn) + 1
        redis.call('HSET', tk, 'state', 'running', 'att', attempt, 'w', worker, 'tok', token, 'exp', expS, 'uat', nowS,
          'hn', istr(n), histName(n), runningHead .. attempt .. runningTail)
        leasedArgs[#leasedArgs + 1] = expS
        leasedArgs[#leasedArgs + 1] = id
        tasks[#tasks + 1] = deliveredRow(id, best.name, ttype, attempt, cost, token, expS, rest)
        avail = avail - 1
      end
      -- The served candidate's virtual time grew (sift it down), or it has nothing left to give.
      if best.left == 0 or best.ok == false then
        heap[1] = heap[size]
        heap[size] = nil
        size = size - 1
      end
      if size > 0 then siftDown(heap, size, 1) end
    end
    -- Write back the band's tenants: new virtual times (or out of the set when emptied).
    for _, cand in ipairs(cands) do
      if cand.served then
        -- Formatted once for both writes (Redis formats a number argument with the same %.17g).
        local v = dbl(cand.v)
        if cand.left <= 0 then redis.call('ZREM', btKey, cand.name) else redis.call('ZADD', btKey, v, cand.name) end
        redis.call('HSET', P .. 'tb:' .. band .. ':' .. cand.name, 'v', v, 'sv', nowS)
      end
    end
    band = band + 1
  end
end
if #leasedArgs > 0 then redis.call('ZADD', P .. 'leased', unpack(leasedArgs)) end
if #claimedIds > 0 then redis.call('SET', P .. 'claim:' .. ARGV[6], table.concat(claimedIds, ','), 'PX', leaseMs) end
-- The worker received its previous claim's reply: that record is not needed any more.
local received = ARGV[6 + limit]
if received ~= nil and received ~= '' then redis.call('DEL', P .. 'claim:' .. received) end
if #unwaited > 0 then redis.call('ZREM', P .. 'waiting', unpack(unwaited)) end
local rateSkipped = {}
for name, t in pairs(tenants) do
  local tenKey = P .. 'ten:' .. name
  -- The script is atomic, so the counts read by tenantOf are current: one write sets them all.
  local changed = {}
  if t.served > 0 then changed = { 'ready', istr(t.ready - t.served), 'leased', istr(t.leased) } end
  if t.tokDirty then
    changed[#changed + 1] = 'tok'
    changed[#changed + 1] = dbl(t.tok)
    changed[#changed + 1] = 'tokat'
    changed[#changed + 1] = int(t.tokat)
  end
  if #changed > 0 then redis.call('HSET', tenKey, unpack(changed)) end
  -- A token counts as a wake-up time only while it alone holds the tenant back: ready tasks
  -- left, under its concurrency cap (and the queue under its cap, checked below).
  if t.rateSkipped and t.rate and t.ready - t.served > 0 and not (t.mc and t.leased >= t.mc) then
    rateSkipped[#rateSkipped + 1] = { t.rate, t.tok }
  end
end
for tenant, byType in pairs(started) do
  for ttype, n in pairs(byType) do
    countLater('queued|' .. tenant .. '|' .. ttype, -n)
    countLater('running|' .. tenant .. '|' .. ttype, n)
  end
end
for f, d in pairs(counts) do
  if d ~= 0 and redis.call('HINCRBY', P .. 'cnt', f, istr(d)) <= 0 then redis.call('HDEL', P .. 'cnt', f) end
end
if vtChanged then
  redis.call('HSET', P .. 'cfg', 'vt0', dbl(c.vt[1]), 'vt1', dbl(c.vt[2]), 'vt2', dbl(c.vt[3]), 'vt3', dbl(c.vt[4]))
end

local nextMs = ''
if #tasks < limit then
  -- This worker may go idle: the next enqueue or freed slot must publish a wake-up.
  redis.call('DEL', P .. 'notified')
  local next = nil
  local d = redis.call('ZRANGE', P .. 'delayed', 0, 0, 'WITHSCORES')
  if #d > 0 then next = tonumber(d[2]) end
  local l = redis.call('ZRANGE', P .. 'leased', 0, 0, 'WITHSCORES')
  if #l > 0 and (next == nil or tonumber(l[2]) < next) then next = tonumber(l[2]) end
  if not c.mc or redis.call('ZCARD', P .. 'leased') < c.mc then
    for _, r in ipairs(rateSkipped) do
      local at = NOW + math.ceil((1 - r[2]) * 1000 / r[1])
      if next == nil or at < next then next = at end
    end
  end
  if next then nextMs = int(math.max(0, next - NOW)) end
end
return { reaped, tasks, nextMs, int(NOW) }
`,
);
