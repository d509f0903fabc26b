import { defineQueueScript } from './queue-lib.js';

/**
 * Maintenance without a claim: reaps expired leases and purges terminal tasks past their
 * retention (completed and cancelled after `ret`, failed and dead after `fret` when set).
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] channel; ARGV[3] limit
 * Reply    { reaped: { id, tenant, type, state, attempt, reason }…, purged count, at }
 */
export const queueMaintainScript = defineQueueScript(
  'queue-maintain',
  `
local c = config()
local limit = tonumber(ARGV[3])
local reaped = reap(c, limit)
if #reaped > 0 then wake(ARGV[2]) end
local purged = purgeExpired(c, limit)
return { reaped, purged, int(NOW) }
`,
);
