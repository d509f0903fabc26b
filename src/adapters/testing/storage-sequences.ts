import { expect } from 'vitest';
import { isFabricaError } from '../../core/errors.js';
import type { CounterResult, JsonValue, ListPage, StorageAdapter, StoredDocument, TxnCompare, TxnOp, TxnResult } from '../storage.js';
import { createMemoryStorage } from '../memory/storage.js';
import { mulberry32 } from './random.js';

/**
 * Random operation sequences for storage backends, checked against a fresh memory storage: puts
 * (plain, compare-and-set on current, stale and absent versions), deletes, reads, listings by
 * prefix in pages, transactions over several documents and counters with bounds, on a small set
 * of keys chosen to stress code point order. Versions differ between backends (one counter per
 * adapter), so each side's versions are renamed in the order they first appear; every other part
 * of every outcome must be equal. Time is left out (TTLs are long, expiries compared as present
 * or not): a server's clock cannot be stopped. @internal
 */

/** Keys whose code point order differs from UTF-16 order and from locale order. */
const KEYS = ['a', 'a/1', 'a/2', 'ab', 'B', 'b', 'é', 'z', '\u{1F600}', '\uFF5E'] as const;
const PREFIXES = ['', 'a', 'a/', 'b', '\u{1F600}'] as const;

type Outcome = { readonly ok: unknown } | { readonly error: string };

/**
 * Runs one sequence of `steps` operations on `sut` in namespaces of its own, and on a fresh
 * memory storage; fails at the first outcome that differs, naming the seed and the step.
 * @internal
 */
export async function runStorageSequence(sut: StorageAdapter, seed: number, steps: number, namespaceBase: string): Promise<void> {
  const reference = createMemoryStorage();
  const next = mulberry32(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!;
  const namespaces = [`${namespaceBase}a`, `${namespaceBase}b`];
  const log: string[] = [];
  // Each side's versions, renamed v1, v2, … in the order they first appear.
  const names: [Map<number, string>, Map<number, string>] = [new Map(), new Map()];
  const actual: [Map<string, number>, Map<string, number>] = [new Map(), new Map()];
  const rename = (side: 0 | 1, version: number | null): string | null => {
    if (version === null) return null;
    let name = names[side].get(version);
    if (name === undefined) {
      name = `v${names[side].size + 1}`;
      names[side].set(version, name);
      actual[side].set(name, version);
    }
    return name;
  };
  /** A version to compare against: a known one (current or stale), 0 (absent), or one never issued. */
  const drawVersion = (): string | 0 => {
    const known = [...actual[0].keys()];
    const roll = next();
    if (roll < 0.25 || known.length === 0) return 0;
    if (roll < 0.3) return 'never';
    return pick(known);
  };
  const versionOn = (side: 0 | 1, v: string | 0): number => (v === 0 ? 0 : v === 'never' ? 2 ** 52 : actual[side].get(v) ?? 2 ** 52);
  const docView = (side: 0 | 1, d: StoredDocument | null) => (d === null ? null : { ns: namespaces.indexOf(d.namespace), key: d.key, value: d.value, version: rename(side, d.version), expires: d.expiresAt !== null });

  const both = async <T>(step: number, what: string, op: (s: StorageAdapter, side: 0 | 1) => Promise<T>, view: (value: T, side: 0 | 1) => unknown): Promise<void> => {
    const settle = async (side: 0 | 1): Promise<Outcome> => {
      try {
        return { ok: view(await op(side === 0 ? reference : sut, side), side) };
      } catch (err) {
        if (!isFabricaError(err)) throw err;
        return { error: err.code };
      }
    };
    const want = await settle(0);
    const got = await settle(1);
    log.push(`${step}: ${what} → ${JSON.stringify(want)}`);
    expect(got, `seed ${seed}, step ${step}: ${what}\noperations (replay: FABRICA_STORAGE_SEQUENCE_SEED=${seed}):\n${log.slice(-12).join('\n')}`).toEqual(want);
  };
  const value = (): JsonValue => pick<JsonValue>([1, 7, -3, 'text', { n: Math.floor(next() * 5) }, [true, null], 0]);

  for (let step = 0; step < steps; step++) {
    const ns = pick(namespaces);
    const key = pick(KEYS);
    const roll = next();
    if (roll < 0.25) {
      const v = value();
      const cas = next() < 0.4 ? drawVersion() : undefined;
      const ttl = next() < 0.15;
      await both(step, `put(${ns}, ${key}, ${JSON.stringify(v)}${cas === undefined ? '' : `, if ${cas}`}${ttl ? ', ttl' : ''})`, (s, side) =>
        s.put(ns, key, v, { ...(cas === undefined ? {} : { ifVersion: versionOn(side, cas) }), ...(ttl ? { ttlMs: 3_600_000 } : {}) }), (r, side) => rename(side, r.version));
    } else if (roll < 0.35) {
      await both(step, `delete(${ns}, ${key})`, (s) => s.delete(ns, key), (r) => r);
    } else if (roll < 0.45) {
      await both(step, `get(${ns}, ${key})`, (s) => s.get(ns, key), (d, side) => docView(side, d));
    } else if (roll < 0.5) {
      const keys = [pick(KEYS), pick(KEYS), pick(KEYS)];
      await both(step, `getMany(${ns}, ${JSON.stringify(keys)})`, (s) => s.getMany(ns, keys), (ds, side) => ds.map((d) => docView(side, d)));
    } else if (roll < 0.6) {
      const prefix = pick(PREFIXES);
      const limit = 1 + Math.floor(next() * 4);
      await both(step, `list(${ns}, ${JSON.stringify(prefix)}, pages of ${limit})`, async (s) => {
        const pages: ListPage[] = [];
        let cursor: string | null = null;
        do {
          const page: ListPage = await s.list(ns, { prefix, limit, ...(cursor === null ? {} : { cursor }) });
          pages.push(page);
          cursor = page.cursor;
        } while (cursor !== null && pages.length < 20);
        return pages;
      }, (pages, side) => pages.map((p) => p.items.map((d) => docView(side, d))));
    } else if (roll < 0.8) {
      // A transaction over a few documents of both namespaces.
      const ref = () => ({ namespace: pick(namespaces), key: pick(KEYS) });
      const compares: ((side: 0 | 1) => TxnCompare)[] = Array.from({ length: Math.floor(next() * 3) }, () => {
        const r = ref();
        if (next() < 0.5) {
          const exists = next() < 0.5;
          return () => ({ ...r, exists });
        }
        const v = drawVersion();
        return (side) => ({ ...r, version: versionOn(side, v) });
      });
      const ops = (): TxnOp[] => {
        // One op per document at most: a key may appear once among a branch's ops.
        const seen = new Set<string>();
        const out: TxnOp[] = [];
        for (let i = Math.floor(next() * 4); i > 0; i--) {
          const r = ref();
          if (seen.has(`${r.namespace}\u0000${r.key}`)) continue;
          seen.add(`${r.namespace}\u0000${r.key}`);
          out.push(next() < 0.7 ? { ...r, type: 'put', value: value() } : { ...r, type: 'delete' });
        }
        return out;
      };
      const success = ops();
      const failure = ops();
      const compareAt = (side: 0 | 1) => compares.map((c) => c(side));
      await both(step, `txn(${JSON.stringify({ compare: compareAt(0), success, failure })})`, (s, side) => s.txn({ compare: compareAt(side), success, failure }), (r: TxnResult, side) => ({
        succeeded: r.succeeded,
        results: r.results.map((x) => ({ ns: namespaces.indexOf(x.namespace), key: x.key, type: x.type, existed: x.existed, version: rename(side, x.version) })),
      }));
    } else if (roll < 0.95) {
      const delta = pick([0, 1, 1, 2, -1, -3, 5]);
      const bounds = next() < 0.5 ? { min: pick([0, -2]), max: pick([3, 6]) } : {};
      await both(step, `add(${ns}, ${key}, ${delta}, ${JSON.stringify(bounds)})`, (s) => s.add(ns, key, delta, bounds), (r: CounterResult, side) => ({ applied: r.applied, value: r.value, version: rename(side, r.version) }));
    } else {
      // Malformed input: refused, and nothing changes (the next reads would show it).
      await both(step, `put with a bad namespace`, (s) => s.put('bad namespace!', key, 1), (r, side) => rename(side, r.version));
    }
  }
  for (const ns of namespaces) {
    await both(steps, `list(${ns}) at the end`, (s) => s.list(ns, { limit: 1000 }), (p, side) => p.items.map((d) => docView(side, d)));
  }
  await reference.close();
}
