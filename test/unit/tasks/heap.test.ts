import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IndexedHeap, OrderedHeap, type HeapPositions } from '../../../src/tasks/policy/heap.js';

interface Item extends HeapPositions {
  readonly id: number;
  key: number;
}
const item = (id: number, key: number): Item => ({ id, key, qpos: -1 });

describe('IndexedHeap', () => {
  it('pops in key order and tracks each item position', () => {
    const heap = new IndexedHeap<Item>('qpos');
    const items = [5, 1, 4, 2, 3].map((k, i) => item(i, k));
    for (const it of items) heap.push(it, it.key);
    expect(heap.size).toBe(5);
    expect(heap.peekKey()).toBe(1);
    expect(heap.has(items[2]!)).toBe(true);
    expect(heap.remove(items[2]!)).toBe(true);
    expect(heap.remove(items[2]!)).toBe(false);
    expect(items[2]!.qpos).toBe(-1);
    const keys: number[] = [];
    for (let top = heap.pop(); top; top = heap.pop()) keys.push(top.key);
    expect(keys).toEqual([1, 2, 3, 5]);
    expect(heap.peekKey()).toBe(Infinity);
  });

  it('re-keys an item up and down', () => {
    const heap = new IndexedHeap<Item>('qpos');
    const a = item(1, 10);
    const b = item(2, 20);
    heap.push(a, 10);
    heap.push(b, 20);
    heap.rekey(b, 5);
    expect(heap.peek()).toBe(b);
    heap.rekey(b, 30);
    expect(heap.peek()).toBe(a);
    expect(() => heap.rekey(item(3, 1), 1)).toThrow(RangeError);
  });

  it('property: any sequence of push, pop, remove and rekey agrees with a sorted model', () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), key: fc.integer({ min: -50, max: 50 }) }),
      fc.record({ kind: fc.constant('pop' as const) }),
      fc.record({ kind: fc.constant('remove' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('rekey' as const), pick: fc.nat(), key: fc.integer({ min: -50, max: 50 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 200, size: 'max' }), (ops) => {
        const heap = new IndexedHeap<Item>('qpos');
        const model: Item[] = [];
        let next = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            const it = item(next++, o.key);
            heap.push(it, o.key);
            model.push(it);
          } else if (o.kind === 'pop') {
            const top = heap.pop();
            if (model.length === 0) expect(top).toBeUndefined();
            else {
              const min = Math.min(...model.map((m) => m.key));
              expect(top!.key).toBe(min);
              model.splice(model.indexOf(top!), 1);
            }
          } else if (model.length > 0) {
            const target = model[o.pick % model.length]!;
            if (o.kind === 'remove') {
              expect(heap.remove(target)).toBe(true);
              model.splice(model.indexOf(target), 1);
            } else {
              target.key = o.key;
              heap.rekey(target, o.key);
            }
          }
          expect(heap.size).toBe(model.length);
          for (const m of model) expect(heap.items()[m.qpos]).toBe(m);
        }
      }),
      { numRuns: 200 },
    );
  });
});

describe('OrderedHeap', () => {
  interface T {
    pos: number;
    v: number;
    id: string;
  }
  const less = (a: T, b: T) => a.v < b.v || (a.v === b.v && a.id < b.id);

  it('orders by the comparator and supports update and remove', () => {
    const heap = new OrderedHeap<T>(less);
    const xs: T[] = [
      { pos: -1, v: 3, id: 'c' },
      { pos: -1, v: 1, id: 'b' },
      { pos: -1, v: 1, id: 'a' },
    ];
    for (const x of xs) heap.push(x);
    expect(heap.peek()!.id).toBe('a');
    xs[2]!.v = 5;
    heap.update(xs[2]!);
    expect(heap.peek()!.id).toBe('b');
    expect(heap.remove(xs[1]!)).toBe(true);
    expect(heap.has(xs[1]!)).toBe(false);
    expect([heap.pop()!.id, heap.pop()!.id, heap.pop()]).toEqual(['c', 'a', undefined]);
  });
});
