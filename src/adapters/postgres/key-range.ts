/**
 * The smallest string greater than every string that starts with `prefix`, in code point order
 * (PostgreSQL `COLLATE "C"` on UTF-8), or `null` when no such bound exists (empty prefix, or one
 * made only of U+10FFFF). `key >= prefix AND key < bound` then selects exactly the keys with that
 * prefix — no LIKE, so `%`, `_` and `\` in a prefix are plain characters.
 */
export function prefixUpperBound(prefix: string): string | null {
  const points = Array.from(prefix, (ch) => ch.codePointAt(0)!);
  while (points.length > 0) {
    const last = points.pop()!;
    if (last === 0x10ffff) continue; // No successor: carry into the previous code point.
    // Surrogate code points cannot occur in text, so U+D7FF's successor in any string is U+E000.
    points.push(last === 0xd7ff ? 0xe000 : last + 1);
    return String.fromCodePoint(...points);
  }
  return null;
}
