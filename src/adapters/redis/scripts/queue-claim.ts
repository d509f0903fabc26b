import { defineQueueScript } from './queue-lib.js';

/**
 * The claim: the QueueAdapter contract's order, in one atomic step.
 * 1. reap expired leases; activate due delayed tasks; promote aged tasks (lowest band first);
 * 2. hand out the tasks assigned to this worker;
 * 3. fair picks up to the global cap: per band (highest first) the tenant with the smallest
 *    virtual time (ties: member order = tenant id bytes) that is under its concurrency cap and
 *    has a rate token; start tag S = max(vtime, V_band); V_band = S; vtime = S + cost / weight;
 *    within the tenant the lowest score (priority, then FIFO). Skipped tenants go back afterwards.
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] worker; ARGV[3] limit; ARGV[4] lease ms; ARGV[5] channel;
 * ARGV[6…] limit lease tokens
 * Reply    { reaped: { id, tenant, type, state, attempt, reason }…,
 *            tasks: { id, tenant, type, owner, payload, band, curBand, priority, cost, options,
 *                     attempt, maxAttempts, createdAt, readyAt, token, expiresAt }…,
 *            next: ms until something may become claimable ('' = nothing scheduled or full claim) }
 */
export const queueClaimScript = defineQueueScript(
  'queue-claim',
  `
local c = config()
local worker, limit, leaseMs = ARGV[2], tonumber(ARGV[3]), tonumber(ARGV[4])
local reaped = reap(c, 1000)
if #reaped > 0 then wake(ARGV[5]) end

-- Due delayed tasks become ready.
for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'delayed', '-inf', NOW, 'LIMIT', 0, 1000)) do
  local f = redis.call('HMGET', taskKey(id), 'tenant', 'type', 'cb', 'pri', 'seq', 'rat')
  redis.call('ZREM', P .. 'delayed', id)
  count('delayed', f[1], f[2], -1)
  makeReady(id, f[1], tonumber(f[3]), tonumber(f[4]), tonumber(f[5]), tonumber(f[6]), c.aging)
end

-- Aging, lowest band first: a task due for several promotions climbs them all now.
local budget = 1000
for band = 3, 1, -1 do
  if budget <= 0 then break end
  for _, id in ipairs(redis.call('ZRANGEBYSCORE', P .. 'age:' .. band, '-inf', NOW, 'LIMIT', 0, budget)) do
    budget = budget - 1
    local tk = taskKey(id)
    local f = redis.call('HMGET', tk, 'tenant', 'pri', 'seq', 'pat')
    leaveBand(id, f[1], band)
    local promoteAt = false
    if band - 1 > 0 and c.aging then promoteAt = tonumber(f[4]) + c.aging end
    redis.call('HSET', tk, 'cb', band - 1, 'pat', promoteAt and int(promoteAt) or '')
    enterBand(id, f[1], band - 1, tonumber(f[2]), tonumber(f[3]), promoteAt)
  end
end

local tasks = {}
local function deliver(id, tk, token, expires)
  local f = redis.call('HMGET', tk, 'tenant', 'type', 'owner', 'payload', 'band', 'cb', 'pri', 'cost', 'opts', 'att', 'max', 'cat', 'rat')
  tasks[#tasks + 1] = { id, f[1], f[2], f[3], f[4], f[5], f[6], f[7], f[8], f[9], f[10], f[11], f[12], f[13], token, int(expires) }
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

-- Fair picks.
local avail = limit - #tasks
if c.mc then avail = math.min(avail, c.mc - redis.call('ZCARD', P .. 'leased')) end
local skipped = {}
local rateSkipped = {}
local band = 0
local vtChanged = false
local tokenIndex = 6
while avail > 0 and band <= 3 do
  local top = redis.call('ZRANGE', P .. 'bt:' .. band, 0, 0, 'WITHSCORES')
  if #top == 0 then
    band = band + 1
  else
    local tenant, vtime = top[1], tonumber(top[2])
    local tenKey = P .. 'ten:' .. tenant
    local tn = redis.call('HMGET', tenKey, 'w', 'mc', 'rate', 'burst', 'tok', 'tokat', 'leased')
    local eligible = true
    local mc = opt(tn[2])
    if mc and tonumber(tn[7] or '0') >= mc then eligible = false end
    local rate = opt(tn[3])
    local tokens = nil
    if eligible and rate then
      local burst = tonumber(tn[4] or '1')
      local at = tonumber(tn[6] or '0')
      tokens = math.min(burst, tonumber(tn[5] or '1') + math.max(0, NOW - at) * rate / 1000)
      redis.call('HSET', tenKey, 'tok', dbl(tokens), 'tokat', int(math.max(at, NOW)))
      if tokens < 1 then
        eligible = false
        rateSkipped[#rateSkipped + 1] = { rate, tokens }
      end
    end
    if not eligible then
      redis.call('ZREM', P .. 'bt:' .. band, tenant)
      skipped[#skipped + 1] = { band, tenant, vtime }
    else
      local rq = P .. 'rq:' .. band .. ':' .. tenant
      local id = redis.call('ZPOPMIN', rq)[1]
      local tk = taskKey(id)
      local f = redis.call('HMGET', tk, 'cost', 'type', 'att')
      local weight = tonumber(tn[1] or '1')
      local start = math.max(vtime, c.vt[band + 1])
      c.vt[band + 1] = start
      vtChanged = true
      local nextV = start + tonumber(f[1]) / weight
      local tb = P .. 'tb:' .. band .. ':' .. tenant
      redis.call('HSET', tb, 'v', dbl(nextV), 'sv', int(NOW))
      if redis.call('EXISTS', rq) == 0 then redis.call('ZREM', P .. 'bt:' .. band, tenant)
      else redis.call('ZADD', P .. 'bt:' .. band, nextV, tenant) end
      if band > 0 then redis.call('ZREM', P .. 'age:' .. band, id) end
      redis.call('ZREM', P .. 'waiting', id)
      redis.call('HINCRBY', tenKey, 'ready', -1)
      redis.call('HINCRBY', tenKey, 'leased', 1)
      if tokens then redis.call('HSET', tenKey, 'tok', dbl(tokens - 1)) end
      local attempt = tonumber(f[3]) + 1
      local token = ARGV[tokenIndex]
      tokenIndex = tokenIndex + 1
      count('queued', tenant, f[2], -1)
      count('running', tenant, f[2], 1)
      redis.call('HSET', tk, 'state', 'running', 'ready', '0', 'att', attempt, 'w', worker, 'tok', token, 'exp', int(expires), 'uat', int(NOW))
      appendHist(tk, 'running', attempt, worker, nil)
      redis.call('ZADD', P .. 'leased', expires, id)
      deliver(id, tk, token, expires)
      avail = avail - 1
    end
  end
end
for _, s in ipairs(skipped) do redis.call('ZADD', P .. 'bt:' .. s[1], s[3], s[2]) end
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
  for _, r in ipairs(rateSkipped) do
    local at = NOW + math.ceil((1 - r[2]) * 1000 / r[1])
    if next == nil or at < next then next = at end
  end
  if next then nextMs = int(math.max(0, next - NOW)) end
end
return { reaped, tasks, nextMs }
`,
);
