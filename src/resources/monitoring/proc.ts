/**
 * Parsers of the Linux files the Node metrics source reads. Pure functions of the file text, so
 * they are tested on fixtures; anything unexpected yields `undefined`, never a guess.
 */

/** Aggregate CPU time counters from the first `cpu ` line of `/proc/stat`, in jiffies. */
export interface CpuTimes {
  /** All time, busy and idle. */
  readonly total: number;
  /** idle + iowait. */
  readonly idle: number;
}

/**
 * Reads the `cpu` line of `/proc/stat` (user nice system idle iowait irq softirq steal ...).
 *
 * @example
 * ```ts
 * import { parseProcStat } from 'digital-fabrica/resources';
 * console.log(parseProcStat('cpu  100 0 50 800 50 0 0 0 0 0\n')); // { total: 1000, idle: 850 }
 * ```
 */
export function parseProcStat(text: string): CpuTimes | undefined {
  const line = text.split('\n').find((l) => l.startsWith('cpu '));
  if (line === undefined) return undefined;
  const fields = line.trim().split(/\s+/).slice(1).map(Number);
  if (fields.length < 4 || fields.some((n) => !Number.isFinite(n))) return undefined;
  // guest and guest_nice (fields 9, 10) are already counted in user and nice.
  const counted = fields.slice(0, 8);
  const total = counted.reduce((a, b) => a + b, 0);
  const idle = (fields[3] ?? 0) + (fields[4] ?? 0);
  return { total, idle };
}

/**
 * Busy fraction between two readings, or `undefined` when no time passed.
 *
 * @example
 * ```ts
 * import { cpuUsageBetween } from 'digital-fabrica/resources';
 * console.log(cpuUsageBetween({ total: 1000, idle: 850 }, { total: 2000, idle: 1350 })); // 0.5
 * ```
 */
export function cpuUsageBetween(before: CpuTimes, after: CpuTimes): number | undefined {
  const total = after.total - before.total;
  const idle = after.idle - before.idle;
  if (!(total > 0) || idle < 0) return undefined;
  return Math.min(1, Math.max(0, 1 - idle / total));
}

/** The fields of `/proc/meminfo` the source uses, in bytes (`undefined` when the file lacks them). */
export interface MemInfo {
  /** MemTotal. */
  readonly total: number | undefined;
  /** MemAvailable: what new work can get without swapping. */
  readonly available: number | undefined;
  /** Cached: the page cache. */
  readonly cached: number | undefined;
}

/**
 * Reads `/proc/meminfo` (values in kB).
 *
 * @example
 * ```ts
 * import { parseMeminfo } from 'digital-fabrica/resources';
 * console.log(parseMeminfo('MemTotal: 2048 kB\nMemAvailable: 1024 kB\nCached: 512 kB\n').available); // 1048576
 * ```
 */
export function parseMeminfo(text: string): MemInfo {
  const fields = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?$/.exec(line.trim());
    if (m) fields.set(m[1]!, Number(m[2]) * 1024);
  }
  return { total: fields.get('MemTotal'), available: fields.get('MemAvailable'), cached: fields.get('Cached') };
}

/** Counters summed over every interface except loopback. */
export interface NetCounters {
  /** Bytes received since boot. */
  readonly rxBytes: number;
  /** Bytes sent since boot. */
  readonly txBytes: number;
  /** Packets received since boot. */
  readonly rxPackets: number;
  /** Packets sent since boot. */
  readonly txPackets: number;
}

/**
 * Reads `/proc/net/dev` (two header lines, then `iface: rx bytes packets ... tx bytes packets ...`).
 *
 * @example
 * ```ts
 * import { parseNetDev } from 'digital-fabrica/resources';
 * const text = 'Inter-|\n face |\n  eth0: 1000 10 0 0 0 0 0 0 2000 20 0 0 0 0 0 0\n';
 * console.log(parseNetDev(text)); // { rxBytes: 1000, txBytes: 2000, rxPackets: 10, txPackets: 20 }
 * ```
 */
export function parseNetDev(text: string): NetCounters | undefined {
  let rxBytes = 0;
  let txBytes = 0;
  let rxPackets = 0;
  let txPackets = 0;
  let seen = false;
  for (const line of text.split('\n')) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const iface = line.slice(0, colon).trim();
    const f = line.slice(colon + 1).trim().split(/\s+/).map(Number);
    if (iface === 'lo' || f.length < 16 || f.some((n) => !Number.isFinite(n))) continue;
    rxBytes += f[0]!;
    rxPackets += f[1]!;
    txBytes += f[8]!;
    txPackets += f[9]!;
    seen = true;
  }
  return seen ? { rxBytes, txBytes, rxPackets, txPackets } : undefined;
}

/**
 * Mean of the `cpu MHz` lines of `/proc/cpuinfo`, or `undefined` (e.g. on ARM, which has none).
 *
 * @example
 * ```ts
 * import { parseCpuInfoMhz } from 'digital-fabrica/resources';
 * console.log(parseCpuInfoMhz('cpu MHz\t\t: 2000.000\ncpu MHz\t\t: 3000.000\n')); // 2500
 * ```
 */
export function parseCpuInfoMhz(text: string): number | undefined {
  const values = [...text.matchAll(/^cpu MHz\s*:\s*([\d.]+)/gm)].map((m) => Number(m[1]));
  const valid = values.filter((v) => Number.isFinite(v) && v > 0);
  return valid.length === 0 ? undefined : valid.reduce((a, b) => a + b, 0) / valid.length;
}
