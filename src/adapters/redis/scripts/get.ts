import { defineScript } from '../lua.js';

/**
 * Reads documents, treating expired ones as absent.
 *
 * KEYS[i]  document hash of the i-th requested key (1..n), all under the adapter's hash tag
 * ARGV     (none)
 * Reply    3 entries per key: JSON text, version, expiresAt ms (or nil) — all nil when absent
 *
 * Redis expires a key only once `now > expiresAt`, one millisecond later than the contract
 * ("expired at expiresAt <= now"), so the script compares against the server's TIME itself.
 */
export const getScript = defineScript(
  'get',
  `
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local out = {}
for i = 1, #KEYS do
  local f = redis.call('HMGET', KEYS[i], 'v', 'n', 'x')
  local base = (i - 1) * 3
  if f[1] and not (f[3] and tonumber(f[3]) <= now) then
    out[base + 1] = f[1]
    out[base + 2] = tonumber(f[2])
    out[base + 3] = f[3] and tonumber(f[3]) or false
  else
    out[base + 1] = false
    out[base + 2] = false
    out[base + 3] = false
  end
end
return out
`,
);
