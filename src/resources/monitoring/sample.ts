/**
 * A measured value, or `'unavailable'` when the platform does not expose it (or a rate has no
 * earlier reading to compare with yet). Sources never invent a value.
 */
export type Reading = number | 'unavailable';

/** One sample of the host (the spec's `MonitoringSystem.metrics`). */
export interface SystemSample {
  /** When it was taken, epoch ms. */
  readonly at: number;
  /** Processor. */
  readonly cpu: {
    /** Busy fraction of all cores since the previous sample, 0–1. */
    readonly usage: Reading;
    /** Mean current frequency over the cores, MHz. */
    readonly frequency: Reading;
    /** Hottest thermal zone, °C. */
    readonly temperature: Reading;
    /** Logical cores. */
    readonly cores: Reading;
  };
  /** Memory, bytes. */
  readonly memory: {
    /** Installed. */
    readonly total: Reading;
    /** In use: total − available. */
    readonly used: Reading;
    /** Page cache. */
    readonly cached: Reading;
    /** Available for new work without swapping. */
    readonly available: Reading;
  };
  /** Network, all interfaces but loopback. */
  readonly network: {
    /** Received + sent bytes per second since the previous sample. */
    readonly bandwidth: Reading;
    /** Received bytes per second. */
    readonly rxBytesPerSecond: Reading;
    /** Sent bytes per second. */
    readonly txBytesPerSecond: Reading;
    /** Received + sent packets per second. */
    readonly packets: Reading;
    /** Round trip of the latency probe, ms. */
    readonly latency: Reading;
  };
  /** This process (from `process.cpuUsage()` and `process.memoryUsage()`). */
  readonly process: {
    /** CPU used since the previous sample, in cores (1 = one core fully busy). */
    readonly cpu: Reading;
    /** Resident set size, bytes. */
    readonly rss: Reading;
    /** V8 heap in use, bytes. */
    readonly heapUsed: Reading;
  };
  /** For each unavailable reading (by its flat name, e.g. `cpu.temperature`), why. */
  readonly unavailable: Readonly<Record<string, string>>;
}

/**
 * Where samples come from: {@link createNodeMetricsSource} on Node (Linux `/proc` and `/sys`,
 * `node:os` elsewhere), or the host's own (a container runtime's stats, a cloud API) — any
 * object with `sample()`; {@link defineMetricsSource} fills in what such a source leaves out.
 */
export interface MetricsSource {
  /** Takes one sample. Rates compare with this source's previous sample. */
  sample(): Promise<SystemSample>;
}

/** A partial sample, as a host's own source may produce it. */
export interface PartialSample {
  /** Epoch ms (default: now). */
  readonly at?: number;
  /** Any of the cpu readings. */
  readonly cpu?: Partial<SystemSample['cpu']>;
  /** Any of the memory readings. */
  readonly memory?: Partial<SystemSample['memory']>;
  /** Any of the network readings. */
  readonly network?: Partial<SystemSample['network']>;
  /** Any of the process readings. */
  readonly process?: Partial<SystemSample['process']>;
  /** Reasons for readings reported unavailable. */
  readonly unavailable?: Readonly<Record<string, string>>;
}

/**
 * Flat names of every reading, in sample order (the keys of `system:metrics` and of alert rules).
 *
 * @example
 * ```ts
 * import { READING_NAMES } from 'digital-fabrica/resources';
 * console.log(READING_NAMES.includes('cpu.temperature')); // true
 * ```
 */
export const READING_NAMES = [
  'cpu.usage',
  'cpu.frequency',
  'cpu.temperature',
  'cpu.cores',
  'memory.total',
  'memory.used',
  'memory.cached',
  'memory.available',
  'network.bandwidth',
  'network.rxBytesPerSecond',
  'network.txBytesPerSecond',
  'network.packets',
  'network.latency',
  'process.cpu',
  'process.rss',
  'process.heapUsed',
] as const;

/**
 * Wraps a host's own metrics function into a {@link MetricsSource}: readings it leaves out are
 * reported `'unavailable'` (reason: "not provided by the source"), and anything that is not a
 * finite number is treated the same way.
 *
 * @example
 * ```ts
 * import { defineMetricsSource } from 'digital-fabrica/resources';
 * const source = defineMetricsSource(async () => ({ cpu: { usage: 0.42 }, memory: { total: 8e9, used: 3e9 } }));
 * const sample = await source.sample();
 * console.log(sample.cpu.usage, sample.cpu.temperature); // 0.42 'unavailable'
 * ```
 */
export function defineMetricsSource(read: () => PartialSample | Promise<PartialSample>, now: () => number = () => Date.now()): MetricsSource {
  return {
    async sample() {
      const partial = await read();
      return completeSample(partial, partial.at ?? now(), 'not provided by the source');
    },
  };
}

/** Fills every missing or non-finite reading of `partial` with `'unavailable'` and a reason. */
export function completeSample(partial: PartialSample, at: number, reason: string): SystemSample {
  const unavailable: Record<string, string> = { ...partial.unavailable };
  const read = (group: 'cpu' | 'memory' | 'network' | 'process', key: string): Reading => {
    const value = (partial[group] as Record<string, unknown> | undefined)?.[key];
    if (typeof value === 'number' && Number.isFinite(value)) return value;
    const name = `${group}.${key}`;
    unavailable[name] ??= reason;
    return 'unavailable';
  };
  return {
    at,
    cpu: { usage: read('cpu', 'usage'), frequency: read('cpu', 'frequency'), temperature: read('cpu', 'temperature'), cores: read('cpu', 'cores') },
    memory: { total: read('memory', 'total'), used: read('memory', 'used'), cached: read('memory', 'cached'), available: read('memory', 'available') },
    network: {
      bandwidth: read('network', 'bandwidth'),
      rxBytesPerSecond: read('network', 'rxBytesPerSecond'),
      txBytesPerSecond: read('network', 'txBytesPerSecond'),
      packets: read('network', 'packets'),
      latency: read('network', 'latency'),
    },
    process: { cpu: read('process', 'cpu'), rss: read('process', 'rss'), heapUsed: read('process', 'heapUsed') },
    unavailable,
  };
}

/**
 * The available readings of a sample as flat `name → number` pairs (the `system:metrics` payload),
 * plus `memory.usage` (used / total, 0–1) when both are known — the usual alert metric.
 *
 * @example
 * ```ts
 * import { defineMetricsSource, flattenSample } from 'digital-fabrica/resources';
 * const sample = await defineMetricsSource(() => ({ memory: { total: 100, used: 25 } })).sample();
 * console.log(flattenSample(sample)); // { 'memory.total': 100, 'memory.used': 25, 'memory.usage': 0.25 }
 * ```
 */
export function flattenSample(sample: SystemSample): Record<string, number> {
  const out: Record<string, number> = {};
  for (const name of READING_NAMES) {
    const [group, key] = name.split('.') as ['cpu' | 'memory' | 'network' | 'process', string];
    const value = (sample[group] as Record<string, Reading>)[key];
    if (typeof value === 'number') out[name] = value;
  }
  const { total, used } = sample.memory;
  if (typeof total === 'number' && typeof used === 'number' && total > 0) out['memory.usage'] = used / total;
  return out;
}
