/**
 * Key order shared by every backend: Unicode code point order, which equals UTF-8 byte order
 * (PostgreSQL `COLLATE "C"`, Redis lexicographic ranges). JavaScript's `<` compares UTF-16 code
 * units instead and disagrees for characters above U+FFFF versus U+E000–U+FFFF.
 */
export function compareKeys(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x === y) continue;
    // Both in the BMP outside surrogates, or both surrogates: code units order like code points.
    const xs = x >= 0xd800 && x <= 0xdfff;
    const ys = y >= 0xd800 && y <= 0xdfff;
    if (xs === ys) return x - y;
    // A surrogate (a code point >= U+10000) sorts after any BMP character.
    return xs ? 1 : -1;
  }
  return a.length - b.length;
}
