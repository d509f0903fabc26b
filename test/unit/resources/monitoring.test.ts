import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/core/clock.js';
import {
  cpuUsageBetween,
  createNodeMetricsSource,
  defineMetricsSource,
  flattenSample,
  LatencyTracker,
  parseCpuInfoMhz,
  parseMeminfo,
  parseNetDev,
  parseProcStat,
  READING_NAMES,
} from '../../../src/resources/index.js';

const stat = (user: number, idle: number) => `cpu  ${user} 0 0 ${idle} 0 0 0 0 0 0\ncpu0 ${user} 0 0 ${idle} 0 0 0 0 0 0\nintr 1 2 3\n`;
const netdev = (rx: number, tx: number, rxp: number, txp: number) =>
  `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
    lo: 999999 9999 0 0 0 0 0 0 999999 9999 0 0 0 0 0 0
  eth0: ${rx} ${rxp} 0 0 0 0 0 0 ${tx} ${txp} 0 0 0 0 0 0
`;
const MEMINFO = 'MemTotal:       16000000 kB\nMemFree:         2000000 kB\nMemAvailable:    6000000 kB\nBuffers:          100000 kB\nCached:          3000000 kB\n';

describe('Linux /proc parsers', () => {
  it('reads cpu times from /proc/stat and the busy fraction between two readings', () => {
    const a = parseProcStat('cpu  100 0 50 800 50 0 0 0 0 0\n');
    expect(a).toEqual({ total: 1000, idle: 850 });
    const b = parseProcStat('cpu  200 0 100 1500 100 0 0 0 0 0\n');
    expect(cpuUsageBetween(a!, b!)).toBeCloseTo(1 - 750 / 900, 10);
    expect(cpuUsageBetween(a!, a!)).toBeUndefined();
    expect(parseProcStat('garbage')).toBeUndefined();
  });

  it('reads memory from /proc/meminfo in bytes', () => {
    expect(parseMeminfo(MEMINFO)).toEqual({ total: 16000000 * 1024, available: 6000000 * 1024, cached: 3000000 * 1024 });
    expect(parseMeminfo('nothing')).toEqual({ total: undefined, available: undefined, cached: undefined });
  });

  it('sums /proc/net/dev counters over interfaces except loopback', () => {
    expect(parseNetDev(netdev(1000, 2000, 10, 20))).toEqual({ rxBytes: 1000, txBytes: 2000, rxPackets: 10, txPackets: 20 });
    expect(parseNetDev('Inter-|\n face |\n    lo: 1 1 0 0 0 0 0 0 1 1 0 0 0 0 0 0\n')).toBeUndefined();
  });

  it('averages cpu MHz from /proc/cpuinfo, and has none on platforms without it', () => {
    expect(parseCpuInfoMhz('processor : 0\ncpu MHz\t\t: 2000.000\nprocessor : 1\ncpu MHz\t\t: 3000.000\n')).toBe(2500);
    expect(parseCpuInfoMhz('processor : 0\nBogoMIPS : 50\n')).toBeUndefined();
  });
});

describe('createNodeMetricsSource', () => {
  const root = mkdtempSync(join(tmpdir(), 'df-proc-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));

  it('computes rates between samples from fixture /proc and /sys trees', async () => {
    const proc = join(root, 'proc');
    const sys = join(root, 'sys');
    mkdirSync(join(proc, 'net'), { recursive: true });
    mkdirSync(join(sys, 'class/thermal/thermal_zone0'), { recursive: true });
    mkdirSync(join(sys, 'class/thermal/thermal_zone1'), { recursive: true });
    mkdirSync(join(sys, 'devices/system/cpu/cpu0/cpufreq'), { recursive: true });
    writeFileSync(join(proc, 'meminfo'), MEMINFO);
    writeFileSync(join(sys, 'class/thermal/thermal_zone0/temp'), '45000\n');
    writeFileSync(join(sys, 'class/thermal/thermal_zone1/temp'), '61500\n');
    writeFileSync(join(sys, 'devices/system/cpu/cpu0/cpufreq/scaling_cur_freq'), '2400000\n');
    writeFileSync(join(proc, 'stat'), stat(100, 900));
    writeFileSync(join(proc, 'net/dev'), netdev(0, 0, 0, 0));
    const clock = new ManualClock(1_000);
    const source = createNodeMetricsSource({ procRoot: proc, sysRoot: sys, warmupMs: 0, clock, latencyProbe: async () => 12.5 });

    const first = await source.sample();
    expect(first.cpu.usage).toBe('unavailable');
    expect(first.unavailable['cpu.usage']).toMatch(/first sample/);
    expect(first.network.bandwidth).toBe('unavailable');

    writeFileSync(join(proc, 'stat'), stat(400, 1600));
    writeFileSync(join(proc, 'net/dev'), netdev(4000, 2000, 40, 20));
    clock.advance(2_000);
    const second = await source.sample();
    expect(second.cpu.usage).toBeCloseTo(300 / 1000, 10);
    expect(second.cpu.temperature).toBe(61.5);
    expect(second.cpu.frequency).toBe(2400);
    expect(second.memory).toEqual({ total: 16000000 * 1024, used: 10000000 * 1024, cached: 3000000 * 1024, available: 6000000 * 1024 });
    expect(second.network).toEqual({ bandwidth: 3000, rxBytesPerSecond: 2000, txBytesPerSecond: 1000, packets: 30, latency: 12.5 });
    expect(second.at).toBe(3_000);
    // This process, from `process`: cpu in cores over the 2 s the manual clock says passed.
    expect(second.process.cpu).toBeGreaterThanOrEqual(0);
    expect(second.process.rss).toBeGreaterThan(0);
    expect(second.process.heapUsed).toBeGreaterThan(0);
    expect(first.process.cpu).toBe('unavailable');
    expect(second.unavailable).toEqual({});
  });

  it('reports unavailable with a reason instead of inventing values', async () => {
    const empty = join(root, 'empty');
    mkdirSync(empty, { recursive: true });
    const source = createNodeMetricsSource({ procRoot: join(empty, 'proc'), sysRoot: join(empty, 'sys'), warmupMs: 0, latencyProbe: async () => Promise.reject(new Error('x')) });
    const sample = await source.sample();
    expect(sample.cpu.temperature).toBe('unavailable');
    expect(sample.network.bandwidth).toBe('unavailable');
    expect(sample.network.latency).toBe('unavailable');
    expect(sample.unavailable['network.latency']).toBe('the latency probe failed');
    expect(sample.unavailable['network.bandwidth']).toMatch(/no .*net\/dev/);
    // Without /proc/meminfo, memory comes from node:os, whose cached figure does not exist.
    expect(typeof sample.memory.total).toBe('number');
    expect(sample.memory.cached).toBe('unavailable');
  });

  it('samples this host: every reading is a finite number or unavailable with a reason', async () => {
    const sample = await createNodeMetricsSource({ warmupMs: 50 }).sample();
    const flat = flattenSample(sample);
    for (const name of READING_NAMES) {
      if (name in flat) expect(Number.isFinite(flat[name])).toBe(true);
      else expect(typeof sample.unavailable[name]).toBe('string');
    }
    if (process.platform === 'linux') {
      expect(typeof sample.cpu.usage).toBe('number');
      expect(typeof sample.memory.cached).toBe('number');
    }
  });

  it('validates its options', () => {
    expect(() => createNodeMetricsSource({ warmupMs: -1 })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});

describe('defineMetricsSource and LatencyTracker', () => {
  it('fills what a host source leaves out, and treats non-finite values as unavailable', async () => {
    const sample = await defineMetricsSource(() => ({ at: 7, cpu: { usage: 0.3, temperature: Number.NaN } })).sample();
    expect(sample.at).toBe(7);
    expect(sample.cpu.usage).toBe(0.3);
    expect(sample.cpu.temperature).toBe('unavailable');
    expect(sample.unavailable['cpu.temperature']).toBe('not provided by the source');
    expect(flattenSample(sample)).toEqual({ 'cpu.usage': 0.3 });
  });

  it('keeps a bounded window per key and a bounded number of keys', () => {
    const latency = new LatencyTracker({ window: 3, maxKeys: 2 });
    for (const ms of [100, 1, 2, 3]) latency.record('a', ms);
    expect(latency.stats('a')).toMatchObject({ count: 3, min: 1, max: 3, p50: 2, mean: 2 });
    latency.record('a', Number.NaN);
    latency.record('a', -1);
    expect(latency.stats('a').count).toBe(3);
    latency.record('b', 1);
    latency.record('c', 1);
    expect(latency.stats('a').count).toBe(0); // least recently recorded key dropped
    expect(() => new LatencyTracker({ window: 0 })).toThrow(expect.objectContaining({ code: 'VALIDATION_FAILED' }));
  });
});
