import { defineQueueScript } from './queue-lib.js';

/**
 * Changes the queue-wide policy (the rule of `mergePolicy`: absent fields unchanged).
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] channel; then set-flag/value pairs ('1'/'0', value or '' for null):
 * ARGV[3,4] maxConcurrency; ARGV[5,6] agingMs; ARGV[7,8] retentionMs; ARGV[9,10] failedRetentionMs
 * Reply    { mc, aging, ret, fret } after the change ('' = null)
 */
export const queueConfigScript = defineQueueScript(
  'queue-config',
  `
local c = config()
local function s(v) if v == nil then return '' end return int(v) end
local mc, aging, ret, fret = s(c.mc), s(c.aging), s(c.ret), s(c.fret)
if ARGV[3] == '1' then mc = ARGV[4] end
if ARGV[5] == '1' then aging = ARGV[6] end
if ARGV[7] == '1' then ret = ARGV[8] end
if ARGV[9] == '1' then fret = ARGV[10] end
redis.call('HSET', P .. 'cfg', 'mc', mc, 'aging', aging, 'ret', ret, 'fret', fret)
-- A new aging interval restarts the watermarks: every waiting task is judged again under it.
if ARGV[5] == '1' then redis.call('HSET', P .. 'cfg', 'wm1', '', 'wm2', '', 'wm3', '') end
redis.call('PUBLISH', ARGV[2], '{}')
return { mc, aging, ret, fret }
`,
);
