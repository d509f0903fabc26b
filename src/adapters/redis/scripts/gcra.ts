import { defineScript } from '../lua.js';

/**
 * The GCRA check over several limits: restates `decideGcra` (src/adapters/internal/
 * rate-limit-requests.ts) in Lua, so reading every TAT, deciding and writing them is ONE atomic
 * step and ONE round trip, whatever the number of limits.
 *
 * KEYS[i]      TAT of limit i ('{<prefix>}:rl:<key>'), a plain string of integer epoch µs
 * ARGV[1]      cost (integer ≥ 0)
 * ARGV[2i]     emission interval of limit i, µs
 * ARGV[2i+1]   burst of limit i
 * Reply        { allowed (1|0), now µs, TAT of limit 1 µs, ... } as integers
 *
 * Time is the server's (`TIME`, µs), so every client agrees whatever its own clock says. Every
 * value is an integer below 2^53 (the request validation bounds them), which Lua's doubles hold
 * exactly. Numbers go back as integer replies (Redis converts a Lua number with a C cast, exact
 * for integers) and are written with '%d' (a C long: 64 bits on the 64-bit platforms Redis
 * supports) — not '%.0f', whose double-to-decimal conversion made up a third of the script's
 * cost, nor tostring(), which keeps only 14 significant digits.
 * Keys expire (PX) once their TAT passes: a rested key and an absent key are the same.
 * A rejected request writes nothing: it consumes no capacity.
 */
export const gcraScript = defineScript(
  'gcra',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local cost = tonumber(ARGV[1])
local n = #KEYS
local tats = {}
local allowed = 1
for i = 1, n do
  local interval = tonumber(ARGV[2 * i])
  local burst = tonumber(ARGV[2 * i + 1])
  local tat = tonumber(redis.call('GET', KEYS[i]) or '0') or 0
  if tat < now then tat = now end
  tats[i] = tat
  if tat + cost * interval - burst * interval > now then allowed = 0 end
end
if allowed == 1 and cost > 0 then
  for i = 1, n do
    local tat = tats[i] + cost * tonumber(ARGV[2 * i])
    tats[i] = tat
    redis.call('SET', KEYS[i], string.format('%d', tat), 'PX', string.format('%d', math.ceil((tat - now) / 1000)))
  end
end
local out = { allowed, now }
for i = 1, n do out[i + 2] = tats[i] end
return out
`,
);

/**
 * Forgets TATs.
 *
 * KEYS   the TAT keys to delete
 * Reply  the number of keys that existed
 */
export const gcraResetScript = defineScript('gcra-reset', `return redis.call('DEL', unpack(KEYS))`);
