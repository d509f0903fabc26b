import { defineQueueScript } from './queue-lib.js';

/**
 * Reads, or changes, one tenant's policy (the rule of `mergeTenantPolicy`; a new rate cap or a
 * new burst starts with a full bucket, as FairQueue.setTenant does).
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] channel; ARGV[3] tenant; ARGV[4] write ('1' | '0'); then
 * ARGV[5]  weight ('' = unchanged); ARGV[6,7] set maxConcurrency, value ('' = null);
 * ARGV[8,9] set ratePerSecond, value ('' = null); ARGV[10] burst ('' = derived)
 * Reply    { weight, maxConcurrency ('' = null), ratePerSecond ('' = null), burst }
 */
export const queueTenantScript = defineQueueScript(
  'queue-tenant',
  `
local tk = P .. 'ten:' .. ARGV[3]
local f = redis.call('HMGET', tk, 'w', 'mc', 'rate', 'burst')
local weight, mc, rate, burst = f[1] or '1', f[2] or '', f[3] or '', f[4] or '1'
if ARGV[4] == '1' then
  local oldRate, oldBurst = rate, burst
  if ARGV[5] ~= '' then weight = ARGV[5] end
  if ARGV[6] == '1' then mc = ARGV[7] end
  if ARGV[8] == '1' then rate = ARGV[9] end
  if ARGV[10] ~= '' then burst = ARGV[10]
  elseif ARGV[8] == '1' then burst = int(math.max(1, math.ceil(tonumber(ARGV[9]) or 1))) end
  redis.call('HSET', tk, 'w', weight, 'mc', mc, 'rate', rate, 'burst', burst)
  if rate ~= '' and (oldRate == '' or oldBurst ~= burst) then
    redis.call('HSET', tk, 'tok', burst, 'tokat', int(NOW))
  end
  redis.call('PUBLISH', ARGV[2], '{}')
end
return { weight, mc, rate, burst }
`,
);
