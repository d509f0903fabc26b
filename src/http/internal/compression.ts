/**
 * Response compression, chosen at run time: gzip and deflate through the Web
 * `CompressionStream` (Node 18+, Deno, Bun, browsers, edge runtimes); brotli through `node:zlib`
 * when the runtime has it (Node, Bun, Deno's node compatibility), loaded lazily so the handler
 * still runs where it is missing.
 */

/** A content coding the handler can produce. */
export type ContentCoding = 'br' | 'gzip' | 'deflate';

type Brotli = (input: Uint8Array) => Promise<Uint8Array>;

let brotli: Promise<Brotli | null> | undefined;

function loadBrotli(): Promise<Brotli | null> {
  brotli ??= (async () => {
    const proc = (globalThis as { process?: { versions?: { node?: string } } }).process;
    if (proc?.versions?.node === undefined) return null;
    try {
      const zlib = await import('node:zlib');
      // Quality 4: close to gzip's speed with a better ratio; 11 (the default) costs ~50x the CPU.
      const params = { [zlib.constants.BROTLI_PARAM_QUALITY]: 4 };
      return (input: Uint8Array) =>
        new Promise<Uint8Array>((resolve, reject) => {
          zlib.brotliCompress(input, { params }, (err, out) => (err ? reject(err) : resolve(new Uint8Array(out.buffer, out.byteOffset, out.byteLength))));
        });
    } catch {
      return null;
    }
  })();
  return brotli;
}

const hasCompressionStream = typeof (globalThis as { CompressionStream?: unknown }).CompressionStream === 'function';

/** The codings this runtime can produce, best first. */
export async function availableCodings(): Promise<ContentCoding[]> {
  const out: ContentCoding[] = [];
  if ((await loadBrotli()) !== null) out.push('br');
  if (hasCompressionStream) out.push('gzip', 'deflate');
  return out;
}

/**
 * Picks a coding from `Accept-Encoding` (RFC 9110 §12.5.3): the highest q-value among the
 * available ones, server preference (br, gzip, deflate) breaking ties; `null` for identity.
 */
export function negotiate(acceptEncoding: string | null, available: readonly ContentCoding[]): ContentCoding | null {
  if (acceptEncoding === null || available.length === 0) return null;
  let best: ContentCoding | null = null;
  let bestQ = 0;
  let star: number | undefined;
  const seen = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().split(';');
    const coding = name!.trim().toLowerCase();
    if (coding === '') continue;
    let q = 1;
    for (const p of params) {
      const [k, v] = p.trim().split('=');
      if (k?.trim().toLowerCase() === 'q') q = Number(v);
    }
    if (!(q >= 0 && q <= 1)) q = 0;
    if (coding === '*') star = q;
    else seen.set(coding === 'x-gzip' ? 'gzip' : coding, q);
  }
  for (const coding of available) {
    const q = seen.get(coding) ?? star ?? 0;
    if (q > bestQ) {
      best = coding;
      bestQ = q;
    }
  }
  return best;
}

/** Compresses `bytes` with `coding`. */
export async function compress(bytes: Uint8Array, coding: ContentCoding): Promise<Uint8Array> {
  if (coding === 'br') {
    const br = await loadBrotli();
    if (br === null) throw new Error('brotli is not available in this runtime');
    return br(bytes);
  }
  const stream = new Blob([bytes as BlobPart]).stream().pipeThrough(new CompressionStream(coding));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}
