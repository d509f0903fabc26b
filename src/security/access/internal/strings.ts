/**
 * The string methods of the check's hot path, captured once at load time and called as plain
 * functions (Node's own lib/ does the same with its "primordials").
 *
 * Why not `text.charCodeAt(i)`: a method called on a primitive string is looked up on
 * `String.prototype`, and once any code makes `String.prototype` the prototype of another object
 * (`class X extends String`, as ioredis 6 does for RESP3 verbatim strings), V8 switches
 * `String.prototype` to dictionary mode (until a method is next called on a `String` object), so
 * every such lookup becomes a hash-table probe: in a process that had imported ioredis, scanning a
 * short path took about 4x as long. A captured function is a constant and is inlined either way.
 * (It also keeps validation independent of later changes to `String.prototype`.)
 */
const { charCodeAt, indexOf, startsWith, slice } = String.prototype;

/** `text.charCodeAt(index)`. */
export function charCodeOf(text: string, index: number): number {
  return charCodeAt.call(text, index);
}

/** `text.indexOf(search, from)`. */
export function indexIn(text: string, search: string, from: number): number {
  return indexOf.call(text, search, from);
}

/** `text.startsWith(prefix)`. */
export function hasPrefix(text: string, prefix: string): boolean {
  return startsWith.call(text, prefix);
}

/** `text.slice(start, end)`. */
export function sliceOf(text: string, start: number, end?: number): string {
  return slice.call(text, start, end);
}
