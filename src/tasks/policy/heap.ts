/**
 * Indexed binary min-heaps: O(log n) push, pop, remove and re-key, O(1) peek. Each item records
 * its own position in a named field, so a task can leave the middle of a heap (claimed out of
 * order, cancelled, promoted) without leaving a stale slot behind — lazy deletion would let
 * stale slots pile up below one long-waiting task.
 *
 * An item sits in at most one heap per position field at a time.
 */

/**
 * The position fields an item carries, one per heap family. -1: not in a heap of that family.
 *
 * @example
 * ```ts
 * import type { HeapPositions } from 'digital-fabrica/tasks';
 * const fresh: HeapPositions = { qpos: -1 };
 * ```
 */
export interface HeapPositions {
  /** Position in the delayed, lease or retention heap (a task is in one of them at most). */
  qpos: number;
}

/**
 * Which position field a heap maintains.
 *
 * @example
 * ```ts
 * import type { HeapSlot } from 'digital-fabrica/tasks';
 * const slot: HeapSlot = 'qpos';
 * ```
 */
export type HeapSlot = keyof HeapPositions;

/**
 * A min-heap on numeric keys. Keys are kept beside the items (no comparator callback on the hot
 * path); equal keys pop in an unspecified order, so callers encode tie-breaks into the key.
 *
 * @example
 * ```ts
 * import { IndexedHeap } from 'digital-fabrica/tasks';
 * const heap = new IndexedHeap<{ qpos: number; name: string }>('qpos');
 * const a = { qpos: -1, name: 'a' };
 * heap.push(a, 2);
 * heap.push({ qpos: -1, name: 'b' }, 1);
 * heap.remove(a);
 * console.log(heap.pop()?.name); // 'b'
 * ```
 */
export class IndexedHeap<E extends HeapPositions> {
  readonly #keys: number[] = [];
  readonly #items: E[] = [];
  readonly #slot: HeapSlot;

  /** @param slot the position field this heap maintains on its items. */
  constructor(slot: HeapSlot) {
    this.#slot = slot;
  }

  /** Number of items. */
  get size(): number {
    return this.#items.length;
  }

  /** The item with the smallest key, or undefined. */
  peek(): E | undefined {
    return this.#items[0];
  }

  /** The smallest key, or `Infinity` when empty. */
  peekKey(): number {
    return this.#items.length === 0 ? Infinity : this.#keys[0]!;
  }

  /** True when `item` is in this heap (by its position field). */
  has(item: E): boolean {
    const i = item[this.#slot];
    return i >= 0 && this.#items[i] === item;
  }

  /** Adds `item` with `key`. The item must not be in another heap of the same slot. */
  push(item: E, key: number): void {
    const i = this.#items.length;
    this.#items.push(item);
    this.#keys.push(key);
    item[this.#slot] = i;
    this.#up(i);
  }

  /** Removes and returns the item with the smallest key. */
  pop(): E | undefined {
    const items = this.#items;
    if (items.length === 0) return undefined;
    const top = items[0]!;
    this.#removeAt(0);
    return top;
  }

  /** Removes `item` if it is in this heap; true if it was. */
  remove(item: E): boolean {
    const i = item[this.#slot];
    if (i < 0 || this.#items[i] !== item) return false;
    this.#removeAt(i);
    return true;
  }

  /** Changes the key of an item in this heap. */
  rekey(item: E, key: number): void {
    const i = item[this.#slot];
    if (i < 0 || this.#items[i] !== item) throw new RangeError('item is not in this heap');
    const old = this.#keys[i]!;
    this.#keys[i] = key;
    if (key < old) this.#up(i);
    else this.#down(i);
  }

  /** Every item, in heap (not key) order. */
  items(): readonly E[] {
    return this.#items;
  }

  #removeAt(i: number): void {
    const items = this.#items;
    const keys = this.#keys;
    const removed = items[i]!;
    removed[this.#slot] = -1;
    const last = items.length - 1;
    if (i === last) {
      items.pop();
      keys.pop();
      return;
    }
    items[i] = items.pop()!;
    keys[i] = keys.pop()!;
    items[i]![this.#slot] = i;
    // The moved item may belong above or below its new place.
    if (i > 0 && keys[i]! < keys[(i - 1) >> 1]!) this.#up(i);
    else this.#down(i);
  }

  #up(i: number): void {
    const items = this.#items;
    const keys = this.#keys;
    const slot = this.#slot;
    const item = items[i]!;
    const key = keys[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent]!;
      if (pk <= key) break;
      const p = items[parent]!;
      items[i] = p;
      keys[i] = pk;
      p[slot] = i;
      i = parent;
    }
    items[i] = item;
    keys[i] = key;
    item[slot] = i;
  }

  #down(i: number): void {
    const items = this.#items;
    const keys = this.#keys;
    const slot = this.#slot;
    const n = items.length;
    const item = items[i]!;
    const key = keys[i]!;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= n) break;
      let ck = keys[child]!;
      const right = child + 1;
      if (right < n && keys[right]! < ck) {
        child = right;
        ck = keys[right]!;
      }
      if (ck >= key) break;
      const c = items[child]!;
      items[i] = c;
      keys[i] = ck;
      c[slot] = i;
      i = child;
    }
    items[i] = item;
    keys[i] = key;
    item[slot] = i;
  }
}

/**
 * A plain min-heap on numeric keys, without positions: a pop sifts through two contiguous
 * arrays and never writes into the items, which keeps a large heap cache-friendly. Removal is
 * left to the caller (lazy deletion: skip stale items when they surface).
 *
 * @example
 * ```ts
 * import { KeyedHeap } from 'digital-fabrica/tasks';
 * const heap = new KeyedHeap<string>();
 * heap.push('later', 20);
 * heap.push('sooner', 10);
 * console.log(heap.pop()); // 'sooner'
 * ```
 */
export class KeyedHeap<E> {
  #keys: number[] = [];
  #items: E[] = [];

  /** Number of entries (stale ones included). */
  get size(): number {
    return this.#items.length;
  }

  /** The entry with the smallest key, or undefined. */
  peek(): E | undefined {
    return this.#items[0];
  }

  /** The smallest key, or `Infinity` when empty. */
  peekKey(): number {
    return this.#items.length === 0 ? Infinity : this.#keys[0]!;
  }

  /** Keeps only the entries `keep` accepts, in place and in O(n) (Floyd's heapify): the compaction of lazy deletion. */
  retain(keep: (item: E, key: number) => boolean): void {
    const keys = this.#keys;
    const items = this.#items;
    let n = 0;
    for (let i = 0; i < items.length; i++) {
      if (keep(items[i]!, keys[i]!)) {
        items[n] = items[i]!;
        keys[n] = keys[i]!;
        n += 1;
      }
    }
    items.length = n;
    keys.length = n;
    for (let i = (n >> 1) - 1; i >= 0; i--) this.#settle(i, keys[i]!, items[i]!, n);
  }

  /** Places `item` with `key` at `start` or below it, moving smaller children up (a sift-down of a new entry). */
  #settle(start: number, key: number, item: E, size: number): void {
    const keys = this.#keys;
    const items = this.#items;
    let i = start;
    for (;;) {
      let child = 2 * i + 1;
      if (child >= size) break;
      let ck = keys[child]!;
      const right = child + 1;
      if (right < size && keys[right]! < ck) {
        child = right;
        ck = keys[right]!;
      }
      if (ck >= key) break;
      keys[i] = ck;
      items[i] = items[child]!;
      i = child;
    }
    keys[i] = key;
    items[i] = item;
  }

  /** Adds `item` with `key`. */
  push(item: E, key: number): void {
    const keys = this.#keys;
    const items = this.#items;
    let i = items.length;
    keys.push(key);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pk = keys[parent]!;
      if (pk <= key) break;
      keys[i] = pk;
      items[i] = items[parent]!;
      i = parent;
    }
    keys[i] = key;
    items[i] = item;
  }

  /** Removes and returns the entry with the smallest key. */
  pop(): E | undefined {
    const keys = this.#keys;
    const items = this.#items;
    const n = items.length;
    if (n === 0) return undefined;
    const top = items[0]!;
    const lastKey = keys.pop()!;
    const last = items.pop()!;
    if (n === 1) return top;
    this.#settle(0, lastKey, last, n - 1);
    return top;
  }

  /** Drops every entry. */
  clear(): void {
    this.#keys = [];
    this.#items = [];
  }

  /** Every entry, in heap order. */
  items(): readonly E[] {
    return this.#items;
  }
}

/**
 * An item of an {@link OrderedHeap}: carries its own position.
 *
 * @example
 * ```ts
 * import type { OrderedHeapItem } from 'digital-fabrica/tasks';
 * const item: OrderedHeapItem & { vtime: number } = { pos: -1, vtime: 0 };
 * ```
 */
export interface OrderedHeapItem {
  pos: number;
}

/**
 * A small indexed min-heap with a comparator, for the per-band heaps of tenants (ordered by
 * virtual time, ties by tenant id): at most one entry per tenant, so the callback cost is moot.
 *
 * @example
 * ```ts
 * import { OrderedHeap } from 'digital-fabrica/tasks';
 * const heap = new OrderedHeap<{ pos: number; vtime: number }>((a, b) => a.vtime < b.vtime);
 * heap.push({ pos: -1, vtime: 3 });
 * heap.push({ pos: -1, vtime: 1 });
 * console.log(heap.peek()?.vtime); // 1
 * ```
 */
export class OrderedHeap<E extends OrderedHeapItem> {
  readonly #items: E[] = [];
  readonly #less: (a: E, b: E) => boolean;

  /** @param less strict order: true when `a` must pop before `b`. */
  constructor(less: (a: E, b: E) => boolean) {
    this.#less = less;
  }

  /** Number of items. */
  get size(): number {
    return this.#items.length;
  }

  /** The first item, or undefined. */
  peek(): E | undefined {
    return this.#items[0];
  }

  /** True when `item` is in this heap. */
  has(item: E): boolean {
    return item.pos >= 0 && this.#items[item.pos] === item;
  }

  /** Adds `item`. */
  push(item: E): void {
    this.#items.push(item);
    item.pos = this.#items.length - 1;
    this.#up(item.pos);
  }

  /** Removes and returns the first item. */
  pop(): E | undefined {
    const top = this.#items[0];
    if (top !== undefined) this.remove(top);
    return top;
  }

  /** Removes `item` if present. */
  remove(item: E): boolean {
    const i = item.pos;
    const items = this.#items;
    if (i < 0 || items[i] !== item) return false;
    item.pos = -1;
    const last = items.pop()!;
    if (last !== item) {
      items[i] = last;
      last.pos = i;
      this.#up(i);
      this.#down(last.pos);
    }
    return true;
  }

  /** Restores order after `item`'s sort fields changed. */
  update(item: E): void {
    if (!this.has(item)) return;
    this.#up(item.pos);
    this.#down(item.pos);
  }

  /** Every item, in heap order. */
  items(): readonly E[] {
    return this.#items;
  }

  #swap(i: number, j: number): void {
    const items = this.#items;
    const a = items[i]!;
    const b = items[j]!;
    items[i] = b;
    items[j] = a;
    a.pos = j;
    b.pos = i;
  }

  #up(i: number): void {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(this.#items[i]!, this.#items[parent]!)) return;
      this.#swap(i, parent);
      i = parent;
    }
  }

  #down(i: number): void {
    const n = this.#items.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.#less(this.#items[l]!, this.#items[m]!)) m = l;
      if (r < n && this.#less(this.#items[r]!, this.#items[m]!)) m = r;
      if (m === i) return;
      this.#swap(i, m);
      i = m;
    }
  }
}
