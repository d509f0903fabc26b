import { defineQueueScript } from './queue-lib.js';

/**
 * Reads one task.
 *
 * KEYS[1]  <P>cfg
 * ARGV[1]  <P>; ARGV[2] id
 * Reply    the task hash's fields in the order listed below, or an empty list when absent:
 *          tenant type owner payload band cb pri cost opts max idem state att cat rat uat w exp prog res err h
 */
export const queueGetScript = defineQueueScript(
  'queue-get',
  `
local tk = taskKey(ARGV[2])
local f = taskFields(tk)
if not f then return {} end
return withHistory(tk, f)
`,
);
