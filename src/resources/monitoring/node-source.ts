import { z } from 'zod';
import type { Clock } from '../../core/clock.js';
import { systemClock } from '../../core/clock.js';
import { parseInput } from '../../core/validation.js';
import { cpuUsageBetween, parseCpuInfoMhz, parseMeminfo, parseNetDev, parseProcStat, type CpuTimes, type NetCounters } from './proc.js';
import { completeSample, type MetricsSource, type PartialSample, type SystemSample } from './sample.js';

/** Measures a round trip in ms (e.g. a TCP connect, an HTTP HEAD, a database ping). */
export type LatencyProbe = () => Promise<number>;

/** Options of {@link createNodeMetricsSource}. */
export interface NodeMetricsSourceOptions {
  /** Where procfs is mounted (default `/proc`); tests point it at fixtures. */
  readonly procRoot?: string;
  /** Where sysfs is mounted (default `/sys`). */
  readonly sysRoot?: string;
  /** Measures network latency; without one, latency is `'unavailable'`. */
  readonly latencyProbe?: LatencyProbe;
  /**
   * Rates (cpu usage, bandwidth, packets) compare two readings. On the first sample, wait this
   * long for a second reading (default 100 ms); 0 reports them `'unavailable'` until the next sample.
   */
  readonly warmupMs?: number;
  /** Time source of `at` and of rates (default: system clock). */
  readonly clock?: Clock;
}

interface Reading0 {
  readonly at: number;
  readonly cpu: CpuTimes | undefined;
  readonly net: NetCounters | undefined;
  /** This process's CPU time, µs (user + system). */
  readonly processCpuUs: number | undefined;
}

// `process` through globalThis: present on Node, Bun and Deno's Node layer, absent on edge runtimes.
const nodeProcess = (globalThis as { process?: { cpuUsage?: () => { user: number; system: number }; memoryUsage?: () => { rss: number; heapUsed: number } } }).process;

type Fs = typeof import('node:fs/promises');
type Os = typeof import('node:os');

const optionsSchema = z
  .strictObject({
    procRoot: z.string().min(1).optional(),
    sysRoot: z.string().min(1).optional(),
    latencyProbe: z.custom<LatencyProbe>((v) => typeof v === 'function', 'latencyProbe must be a function').optional(),
    warmupMs: z.number().int().min(0).max(10_000).optional(),
    clock: z.custom<Clock>((v) => typeof (v as Clock | null)?.now === 'function', 'clock must have now()').optional(),
  })
  .optional();

/**
 * Samples the host from Node: on Linux cpu usage from `/proc/stat` deltas, frequency from
 * cpufreq (or `/proc/cpuinfo`), temperature from `/sys/class/thermal`, memory from
 * `/proc/meminfo` (total, used = total − MemAvailable, Cached), network bandwidth and packets
 * from `/proc/net/dev` deltas (loopback excluded); elsewhere cpu from `os.cpus()` deltas and
 * memory from `os.totalmem()`/`os.freemem()`; this process's cpu, rss and heap from `process`.
 * Whatever the platform does not expose is reported
 * `'unavailable'` with a reason, never estimated. `node:fs` and `node:os` are loaded on first
 * use, so importing this module costs nothing on runtimes without them.
 *
 * @throws `VALIDATION_FAILED` for bad options.
 * @example
 * ```ts
 * import { createNodeMetricsSource, flattenSample } from 'digital-fabrica/resources';
 * const source = createNodeMetricsSource();
 * const sample = await source.sample();
 * console.log(flattenSample(sample)['cpu.usage'], sample.unavailable);
 * ```
 */
export function createNodeMetricsSource(options?: NodeMetricsSourceOptions): MetricsSource {
  const opts = parseInput(optionsSchema, options, 'node metrics source options');
  const proc = opts?.procRoot ?? '/proc';
  const sys = opts?.sysRoot ?? '/sys';
  const clock = opts?.clock ?? systemClock;
  const warmupMs = opts?.warmupMs ?? 100;
  const probe = opts?.latencyProbe;
  let previous: Reading0 | undefined;
  let modules: Promise<{ fs: Fs; os: Os }> | undefined;
  const load = () => (modules ??= Promise.all([import('node:fs/promises'), import('node:os')]).then(([fs, os]) => ({ fs, os })));

  const readText = async (fs: Fs, path: string): Promise<string | undefined> => fs.readFile(path, 'utf8').catch(() => undefined);

  const counters = async (fs: Fs, os: Os): Promise<Reading0> => {
    const stat = await readText(fs, `${proc}/stat`);
    const cpu = (stat === undefined ? undefined : parseProcStat(stat)) ?? osCpuTimes(os);
    const dev = await readText(fs, `${proc}/net/dev`);
    const own = nodeProcess?.cpuUsage?.();
    return { at: clock.now(), cpu, net: dev === undefined ? undefined : parseNetDev(dev), processCpuUs: own === undefined ? undefined : own.user + own.system };
  };

  return {
    async sample(): Promise<SystemSample> {
      const { fs, os } = await load();
      let before = previous;
      let now = await counters(fs, os);
      if (before === undefined && warmupMs > 0) {
        before = now;
        await new Promise((resolve) => setTimeout(resolve, warmupMs));
        now = await counters(fs, os);
      }
      previous = now;
      const unavailable: Record<string, string> = {};
      const partial: { cpu: Record<string, number>; memory: Record<string, number>; network: Record<string, number>; process: Record<string, number> } = {
        cpu: {},
        memory: {},
        network: {},
        process: {},
      };

      // cpu
      const usage = before?.cpu && now.cpu ? cpuUsageBetween(before.cpu, now.cpu) : undefined;
      if (usage !== undefined) partial.cpu.usage = usage;
      else unavailable['cpu.usage'] = before === undefined ? 'first sample: a rate needs an earlier reading' : 'no cpu time counters, or no time passed';
      const cores = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
      if (cores > 0) partial.cpu.cores = cores;
      const mhz = (await cpufreqMhz(fs, sys)) ?? parseCpuInfoMhzOrUndefined(await readText(fs, `${proc}/cpuinfo`)) ?? osMhz(os);
      if (mhz !== undefined) partial.cpu.frequency = mhz;
      else unavailable['cpu.frequency'] = 'the platform exposes no cpu frequency';
      const celsius = await hottestZone(fs, sys);
      if (celsius !== undefined) partial.cpu.temperature = celsius;
      else unavailable['cpu.temperature'] = `no readable thermal zone under ${sys}/class/thermal`;

      // memory
      const meminfo = await readText(fs, `${proc}/meminfo`);
      if (meminfo !== undefined) {
        const m = parseMeminfo(meminfo);
        if (m.total !== undefined) partial.memory.total = m.total;
        if (m.available !== undefined) partial.memory.available = m.available;
        if (m.total !== undefined && m.available !== undefined) partial.memory.used = m.total - m.available;
        if (m.cached !== undefined) partial.memory.cached = m.cached;
      } else {
        partial.memory.total = os.totalmem();
        partial.memory.available = os.freemem();
        partial.memory.used = os.totalmem() - os.freemem();
        unavailable['memory.cached'] = `no ${proc}/meminfo on this platform`;
      }

      // network
      const seconds = before === undefined ? 0 : (now.at - before.at) / 1000;
      if (before?.net && now.net && seconds > 0) {
        const rx = Math.max(0, now.net.rxBytes - before.net.rxBytes) / seconds;
        const tx = Math.max(0, now.net.txBytes - before.net.txBytes) / seconds;
        partial.network.rxBytesPerSecond = rx;
        partial.network.txBytesPerSecond = tx;
        partial.network.bandwidth = rx + tx;
        partial.network.packets = (Math.max(0, now.net.rxPackets - before.net.rxPackets) + Math.max(0, now.net.txPackets - before.net.txPackets)) / seconds;
      } else {
        const why = now.net === undefined ? `no ${proc}/net/dev on this platform` : 'first sample: a rate needs an earlier reading';
        for (const k of ['bandwidth', 'rxBytesPerSecond', 'txBytesPerSecond', 'packets']) unavailable[`network.${k}`] = why;
      }
      if (probe !== undefined) {
        try {
          const ms = await probe();
          if (Number.isFinite(ms) && ms >= 0) partial.network.latency = ms;
          else unavailable['network.latency'] = 'the latency probe returned no valid figure';
        } catch {
          unavailable['network.latency'] = 'the latency probe failed';
        }
      } else {
        unavailable['network.latency'] = 'no latency probe configured';
      }
      // process
      const elapsedUs = before === undefined ? 0 : (now.at - before.at) * 1000;
      if (before?.processCpuUs !== undefined && now.processCpuUs !== undefined && elapsedUs > 0) {
        partial.process.cpu = (now.processCpuUs - before.processCpuUs) / elapsedUs;
      } else {
        unavailable['process.cpu'] = nodeProcess?.cpuUsage === undefined ? 'no process.cpuUsage() on this runtime' : 'first sample: a rate needs an earlier reading';
      }
      const memory = nodeProcess?.memoryUsage?.();
      if (memory !== undefined) {
        partial.process.rss = memory.rss;
        partial.process.heapUsed = memory.heapUsed;
      }
      const sample: PartialSample = { ...partial, unavailable };
      return completeSample(sample, now.at, 'not measured');
    },
  };
}

/**
 * A latency probe timing a TCP connect to `host:port` (rejects after `timeoutMs`, default 2000).
 * Loads `node:net` on first use.
 *
 * @example
 * ```ts
 * import { createNodeMetricsSource, tcpLatencyProbe } from 'digital-fabrica/resources';
 * const source = createNodeMetricsSource({ latencyProbe: tcpLatencyProbe('example.com', 443) });
 * ```
 */
export function tcpLatencyProbe(host: string, port: number, timeoutMs = 2_000): LatencyProbe {
  parseInput(z.strictObject({ host: z.string().min(1).max(255), port: z.number().int().min(1).max(65535), timeoutMs: z.number().int().min(1).max(60_000) }), { host, port, timeoutMs }, 'tcp latency probe');
  return async () => {
    const net = await import('node:net');
    const started = performance.now();
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect({ host, port });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error('latency probe timed out'));
      }, timeoutMs);
      socket.once('connect', () => {
        clearTimeout(timer);
        socket.destroy();
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    return performance.now() - started;
  };
}

function osCpuTimes(os: Os): CpuTimes | undefined {
  const cpus = os.cpus();
  if (cpus.length === 0) return undefined;
  let total = 0;
  let idle = 0;
  for (const c of cpus) {
    total += c.times.user + c.times.nice + c.times.sys + c.times.idle + c.times.irq;
    idle += c.times.idle;
  }
  return { total, idle };
}

function osMhz(os: Os): number | undefined {
  const speeds = os.cpus().map((c) => c.speed).filter((s) => s > 0);
  return speeds.length === 0 ? undefined : speeds.reduce((a, b) => a + b, 0) / speeds.length;
}

function parseCpuInfoMhzOrUndefined(text: string | undefined): number | undefined {
  return text === undefined ? undefined : parseCpuInfoMhz(text);
}

async function cpufreqMhz(fs: Fs, sys: string): Promise<number | undefined> {
  const dir = `${sys}/devices/system/cpu`;
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  const khz: number[] = [];
  for (const name of entries.filter((e) => /^cpu\d+$/.test(e))) {
    const text = await fs.readFile(`${dir}/${name}/cpufreq/scaling_cur_freq`, 'utf8').catch(() => undefined);
    const value = Number(text?.trim());
    if (text !== undefined && Number.isFinite(value) && value > 0) khz.push(value);
  }
  return khz.length === 0 ? undefined : khz.reduce((a, b) => a + b, 0) / khz.length / 1000;
}

async function hottestZone(fs: Fs, sys: string): Promise<number | undefined> {
  const dir = `${sys}/class/thermal`;
  const entries = await fs.readdir(dir).catch(() => [] as string[]);
  let hottest: number | undefined;
  for (const name of entries.filter((e) => e.startsWith('thermal_zone'))) {
    const text = await fs.readFile(`${dir}/${name}/temp`, 'utf8').catch(() => undefined);
    const milli = Number(text?.trim());
    // Zones report millidegrees; a missing sensor reads as an error or a nonsense value.
    if (text === undefined || !Number.isFinite(milli) || milli <= -273_000 || milli > 200_000) continue;
    const c = milli / 1000;
    if (hottest === undefined || c > hottest) hottest = c;
  }
  return hottest;
}
