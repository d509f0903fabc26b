/**
 * Weak entity tags from a fast 53-bit hash of the JSON body. Weak, because the same entity is
 * served in several content codings (RFC 9110 §8.8.1); If-None-Match uses weak comparison anyway
 * (§13.1.2). Not a security boundary: an ETag only lets a client skip a download it already has.
 */

/** cyrb53: a fast, well-mixed 53-bit string hash. */
function hash53(text: string): number {
  let h1 = 0xdeadbeef;
  let h2 = 0x41c6ce57;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 2654435761);
    h2 = Math.imul(h2 ^ c, 1597334677);
  }
  h1 = Math.imul(h1 ^ (h1 >>> 16), 2246822507) ^ Math.imul(h2 ^ (h2 >>> 13), 3266489909);
  h2 = Math.imul(h2 ^ (h2 >>> 16), 2246822507) ^ Math.imul(h1 ^ (h1 >>> 13), 3266489909);
  return 4294967296 * (2097151 & h2) + (h1 >>> 0);
}

/** The weak ETag of a body. */
export function etagOf(body: string): string {
  return `W/"${body.length.toString(36)}-${hash53(body).toString(36)}"`;
}

/** Whether `If-None-Match` matches `etag` under weak comparison (RFC 9110 §13.1.2). */
export function ifNoneMatch(header: string | null, etag: string): boolean {
  if (header === null) return false;
  const opaque = etag.slice(2);
  for (const raw of header.split(',')) {
    const tag = raw.trim();
    if (tag === '*') return true;
    if ((tag.startsWith('W/') ? tag.slice(2) : tag) === opaque) return true;
  }
  return false;
}
