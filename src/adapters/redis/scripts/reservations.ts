import { defineScript } from '../lua.js';

/**
 * Leased reservations: every operation is one script over an owner's three keys, so dropping the
 * expired reservations, checking the limits and writing are one atomic step.
 *
 * KEYS[1]  '{<prefix>}:rv:<owner>'   hash: reservation id → 'compute,storage,network,createdAt,expiresAt'
 * KEYS[2]  '{<prefix>}:rvx:<owner>'  sorted set: reservation id scored by expiresAt (ms)
 * KEYS[3]  '{<prefix>}:rvu:<owner>'  hash: c, s, n → the owner's recorded usage
 *
 * The prelude below runs first in every script: it takes the server's time (`TIME`, ms), drops
 * every reservation whose expiresAt ≤ now and subtracts its amounts from the usage. So recorded
 * usage equals the sum of live reservations after every script, and a holder that died gives
 * its quota back when its lease ends. `save()` then writes the usage and sets all three keys to
 * expire with the last reservation (PEXPIREAT), so an idle owner costs no memory.
 *
 * Amounts are integers below 2^53, exact in Lua's doubles; numbers travel as text (a Lua number
 * in a reply would be truncated to an integer type).
 */
const PRELUDE = `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
-- '%d' formats a C long (64 bits where Redis runs): exact for our integers, and far cheaper
-- than '%.0f', which converts through a double-to-decimal routine.
local function int(n) return string.format('%d', n) end
local u = redis.call('HMGET', KEYS[3], 'c', 's', 'n')
local uc, us, un = tonumber(u[1] or '0') or 0, tonumber(u[2] or '0') or 0, tonumber(u[3] or '0') or 0
local function parse(rec)
  local c, s, n, created, expires = string.match(rec, '^(%d+),(%d+),(%d+),(%d+),(%d+)$')
  return tonumber(c), tonumber(s), tonumber(n), tonumber(created), tonumber(expires)
end
local dead = redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)
local expired = #dead
for _, id in ipairs(dead) do
  local rec = redis.call('HGET', KEYS[1], id)
  if rec then
    local c, s, n = parse(rec)
    uc, us, un = uc - c, us - s, un - n
    redis.call('HDEL', KEYS[1], id)
  end
end
if expired > 0 then redis.call('ZREMRANGEBYSCORE', KEYS[2], '-inf', now) end
local function save()
  local last = redis.call('ZRANGE', KEYS[2], -1, -1, 'WITHSCORES')
  if #last == 0 then
    redis.call('DEL', KEYS[1], KEYS[2], KEYS[3])
    return
  end
  redis.call('HSET', KEYS[3], 'c', int(uc), 's', int(us), 'n', int(un))
  local at = last[2]
  redis.call('PEXPIREAT', KEYS[1], at)
  redis.call('PEXPIREAT', KEYS[2], at)
  redis.call('PEXPIREAT', KEYS[3], at)
end
local function head(status)
  return { status, int(now), int(uc), int(us), int(un), expired }
end
`;

/**
 * Reserve.
 *
 * ARGV[1]    reservation id
 * ARGV[2..4] amounts: compute, storage, network
 * ARGV[5..7] limits: compute, storage, network ('' = no limit)
 * ARGV[8]    lease in ms
 * Reply      { status, now, usage c, s, n, expired[, the reservation's record] } with status
 *            'reserved' | 'existing' | 'mismatch' | 'exceeded'
 */
export const reserveScript = defineScript(
  'reservation-reserve',
  `${PRELUDE}
local id = ARGV[1]
local ac, as, an = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local current = redis.call('HGET', KEYS[1], id)
if current then
  local c, s, n = parse(current)
  if expired > 0 then save() end
  local out = head((c == ac and s == as and n == an) and 'existing' or 'mismatch')
  out[7] = current
  return out
end
local function over(used, amount, limit)
  if amount == 0 then return false end
  if used + amount > 9007199254740991 then return true end
  return limit ~= '' and used + amount > tonumber(limit)
end
if over(uc, ac, ARGV[5]) or over(us, as, ARGV[6]) or over(un, an, ARGV[7]) then
  if expired > 0 then save() end
  return head('exceeded')
end
local expires = now + tonumber(ARGV[8])
local rec = int(ac) .. ',' .. int(as) .. ',' .. int(an) .. ',' .. int(now) .. ',' .. int(expires)
redis.call('HSET', KEYS[1], id, rec)
redis.call('ZADD', KEYS[2], expires, id)
uc, us, un = uc + ac, us + as, un + an
save()
local out = head('reserved')
out[7] = rec
return out
`,
);

/**
 * Renew a lease.
 *
 * ARGV[1]  reservation id
 * ARGV[2]  lease in ms, from now
 * Reply    { 'renewed' | 'missing', now, usage c, s, n, expired[, the updated record] }
 */
export const renewScript = defineScript(
  'reservation-renew',
  `${PRELUDE}
local id = ARGV[1]
local current = redis.call('HGET', KEYS[1], id)
if not current then
  if expired > 0 then save() end
  return head('missing')
end
local c, s, n, created = parse(current)
local expires = now + tonumber(ARGV[2])
local rec = int(c) .. ',' .. int(s) .. ',' .. int(n) .. ',' .. int(created) .. ',' .. int(expires)
redis.call('HSET', KEYS[1], id, rec)
redis.call('ZADD', KEYS[2], expires, id)
save()
local out = head('renewed')
out[7] = rec
return out
`,
);

/**
 * Release.
 *
 * ARGV[1]  reservation id
 * Reply    { 'released' | 'missing', now, usage c, s, n, expired }
 */
export const releaseScript = defineScript(
  'reservation-release',
  `${PRELUDE}
local id = ARGV[1]
local current = redis.call('HGET', KEYS[1], id)
if not current then
  if expired > 0 then save() end
  return head('missing')
end
local c, s, n = parse(current)
uc, us, un = uc - c, us - s, un - n
redis.call('HDEL', KEYS[1], id)
redis.call('ZREM', KEYS[2], id)
save()
return head('released')
`,
);

/**
 * Snapshot.
 *
 * Reply    { 'snapshot', now, usage c, s, n, expired, id1, record1, id2, record2, ... } with every
 *          live reservation, unordered: the client sorts and truncates, because Lua compares
 *          strings with strcoll(), and Redis sets LC_COLLATE from its environment, so a sort here
 *          would not be byte order on every server.
 */
export const snapshotScript = defineScript(
  'reservation-snapshot',
  `${PRELUDE}
if expired > 0 then save() end
local out = head('snapshot')
local all = redis.call('HGETALL', KEYS[1])
for i = 1, #all do out[6 + i] = all[i] end
return out
`,
);
