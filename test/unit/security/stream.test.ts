import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isFabricaError } from '../../../src/errors.js';
import { availableAesGcmEngines } from '../../../src/security/cipher/engines.js';
import { concatBytes, randomBytes } from '../../../src/security/internal/bytes.js';
import { AesKey, createDecryptStream, createEncryptStream, type AesGcmEngineName } from '../../../src/security/primitives.js';
import { expectCode } from './support/errors.js';
import { sameBytes } from '../../support/vectors.js';

const engines = availableAesGcmEngines();
const key = AesKey.generate({ id: 'stream-key' });

/** Splits `data` into chunks of the given sizes (cycled), like a network or file source would. */
function chunked(data: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const out: Uint8Array[] = [];
  let offset = 0;
  for (let i = 0; offset < data.length; i++) {
    const n = Math.max(1, sizes[i % sizes.length] ?? 1);
    out.push(data.slice(offset, offset + n));
    offset += n;
  }
  return out;
}

function source(chunks: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      if (i < chunks.length) controller.enqueue(chunks[i++]!);
      else controller.close();
    },
  });
}

async function collect(stream: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return parts;
    parts.push(value);
  }
}

/** Runs chunks through a transform; returns what came out and the error, if any. */
async function run(chunks: readonly Uint8Array[], transform: TransformStream<Uint8Array, Uint8Array>): Promise<{ out: Uint8Array; error: unknown }> {
  const parts: Uint8Array[] = [];
  const reader = source(chunks).pipeThrough(transform).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { out: concatBytes(...parts), error: undefined };
      parts.push(value);
    }
  } catch (error) {
    return { out: concatBytes(...parts), error };
  }
}

async function seal(plaintext: Uint8Array, segmentSize: number, options: { aad?: string; engine?: AesGcmEngineName; key?: AesKey } = {}): Promise<Uint8Array> {
  const { out, error } = await run([plaintext], createEncryptStream(options.key ?? key, { segmentSize, ...(options.aad ? { aad: options.aad } : {}), ...(options.engine ? { engine: options.engine } : {}) }));
  if (error) throw error;
  return out;
}

/** Header and sealed segments of a stream made with `segmentSize`. */
function split(sealed: Uint8Array, segmentSize: number): { header: Uint8Array; segments: Uint8Array[] } {
  const headerLength = 7 + sealed[6]! + 32 + 7;
  const segments: Uint8Array[] = [];
  for (let i = headerLength; i < sealed.length; i += segmentSize + 16) segments.push(sealed.slice(i, i + segmentSize + 16));
  return { header: sealed.slice(0, headerLength), segments };
}

function authCode(error: unknown): string | undefined {
  return isFabricaError(error) ? error.code : String(error);
}

describe('streaming encryption', () => {
  it('property: round-trips any data for any segment size and any chunking of both sides, across engines', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.uint8Array({ maxLength: 3000 }),
        fc.integer({ min: 16, max: 700 }),
        fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.integer({ min: 1, max: 900 }), { minLength: 1, maxLength: 6 }),
        fc.constantFrom(...engines),
        fc.constantFrom(...engines),
        async (plaintext, segmentSize, inSizes, outSizes, a, b) => {
          const enc = await run(chunked(plaintext, inSizes), createEncryptStream(key, { segmentSize, aad: 'file:1', engine: a }));
          expect(enc.error).toBeUndefined();
          const segments = Math.max(1, Math.ceil(plaintext.length / segmentSize));
          expect(enc.out.length).toBe(7 + key.id.length + 39 + plaintext.length + 16 * segments);
          const dec = await run(chunked(enc.out, outSizes), createDecryptStream(key, { aad: 'file:1', engine: b }));
          expect(dec.error).toBeUndefined();
          expect(sameBytes(dec.out, plaintext)).toBe(true);
        },
      ),
      { numRuns: 80 },
    );
  });

  it('round-trips a few MiB with the default 64 KiB segments, releasing output before the input ends', async () => {
    const plaintext = randomBytes(3 * 1024 * 1024 + 123);
    const encrypt = createEncryptStream(key);
    const writer = encrypt.writable.getWriter();
    const reader = encrypt.readable.getReader();
    // Feed 1 MiB and read: segments come out while the stream is still open (nothing is buffered
    // beyond one segment), which is what keeps memory flat for arbitrarily long streams.
    void writer.write(plaintext.subarray(0, 1024 * 1024));
    const early: Uint8Array[] = [];
    while (early.reduce((n, c) => n + c.length, 0) < 1024 * 1024 - 64 * 1024) early.push((await reader.read()).value!);
    void writer.write(plaintext.subarray(1024 * 1024));
    void writer.close();
    const rest: Uint8Array[] = [];
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      rest.push(value);
    }
    const dec = await run([concatBytes(...early, ...rest)], createDecryptStream(key));
    expect(dec.error).toBeUndefined();
    expect(sameBytes(dec.out, plaintext)).toBe(true);
  });

  it('encrypts an empty stream into a header and one empty final segment', async () => {
    const sealed = await seal(new Uint8Array(0), 64);
    expect(split(sealed, 64).segments.map((s) => s.length)).toEqual([16]);
    const dec = await run([sealed], createDecryptStream(key));
    expect(dec.error).toBeUndefined();
    expect(dec.out.length).toBe(0);
  });

  it('does not add an empty segment when the plaintext is a whole number of segments', async () => {
    const sealed = await seal(randomBytes(64 * 3), 64);
    expect(split(sealed, 64).segments.map((s) => s.length)).toEqual([80, 80, 80]);
  });

  describe('detects attacks on the segment sequence with CRYPTO_AUTH_FAILED', () => {
    const segmentSize = 32;
    const plaintext = randomBytes(32 * 5 + 7); // 6 segments, the last one short

    it('dropping the final segment (truncation at a segment boundary)', async () => {
      const { header, segments } = split(await seal(plaintext, segmentSize), segmentSize);
      const { out, error } = await run([concatBytes(header, ...segments.slice(0, -1))], createDecryptStream(key));
      expect(authCode(error)).toBe('CRYPTO_AUTH_FAILED');
      expect((error as { details: { reason: string } }).details.reason).toBe('truncated');
      expect(out.length).toBeLessThanOrEqual(4 * segmentSize); // only verified middle segments were released
    });

    it('property: cutting the stream anywhere', async () => {
      const sealed = await seal(plaintext, segmentSize);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: sealed.length - 1 }), async (cut) => {
          const { error } = await run([sealed.subarray(0, cut)], createDecryptStream(key));
          expect(authCode(error)).toBe('CRYPTO_AUTH_FAILED');
        }),
        { numRuns: 100 },
      );
    });

    it('keeping only the header', async () => {
      const { header } = split(await seal(plaintext, segmentSize), segmentSize);
      const { error } = await run([header], createDecryptStream(key));
      expect(authCode(error)).toBe('CRYPTO_AUTH_FAILED');
    });

    it('property: swapping two segments (reordering)', async () => {
      const { header, segments } = split(await seal(plaintext, segmentSize), segmentSize);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: segments.length - 1 }), fc.integer({ min: 0, max: segments.length - 1 }), async (i, j) => {
          fc.pre(i !== j);
          const order = segments.slice();
          [order[i], order[j]] = [order[j]!, order[i]!];
          const { out, error } = await run([concatBytes(header, ...order)], createDecryptStream(key));
          expect(authCode(error)).toBe('CRYPTO_AUTH_FAILED');
          expect(out.length).toBeLessThanOrEqual(Math.min(i, j) * segmentSize);
        }),
        { numRuns: 40 },
      );
    });

    it('property: duplicating a segment', async () => {
      const { header, segments } = split(await seal(plaintext, segmentSize), segmentSize);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: segments.length - 1 }), async (i) => {
          const copy = [...segments.slice(0, i + 1), segments[i]!, ...segments.slice(i + 1)];
          const { error } = await run([concatBytes(header, ...copy)], createDecryptStream(key));
          expect(authCode(error)).toBe('CRYPTO_AUTH_FAILED');
        }),
        { numRuns: 20 },
      );
    });

    it('property: splicing in the segment at the same position of another stream under the same key', async () => {
      const a = split(await seal(plaintext, segmentSize), segmentSize);
      const b = split(await seal(plaintext, segmentSize), segmentSize);
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: a.segments.length - 1 }), async (i) => {
          const mixed = a.segments.slice();
          mixed[i] = b.segments[i]!;
          const { out, error } = await run([concatBytes(a.header, ...mixed)], createDecryptStream(key));
          expect(authCode(error)).toBe('CRYPTO_AUTH_FAILED');
          expect(out.length).toBeLessThanOrEqual(i * segmentSize);
          // Another stream's header with this stream's segments fails too.
          const { error: error2 } = await run([concatBytes(b.header, ...a.segments)], createDecryptStream(key));
          expect(authCode(error2)).toBe('CRYPTO_AUTH_FAILED');
        }),
        { numRuns: 20 },
      );
    });

    it('appending data after the final segment', async () => {
      const sealed = await seal(plaintext, segmentSize);
      for (const extra of [new Uint8Array(1), randomBytes(16), randomBytes(48)]) {
        const { error } = await run([concatBytes(sealed, extra)], createDecryptStream(key));
        expect(authCode(error)).toBe('CRYPTO_AUTH_FAILED');
      }
    });

    it('property: altering any byte (header or segment) releases no plaintext of the altered segment', async () => {
      const sealed = await seal(plaintext, segmentSize);
      const headerLength = split(sealed, segmentSize).header.length;
      await fc.assert(
        fc.asyncProperty(fc.integer({ min: 0, max: sealed.length - 1 }), fc.integer({ min: 1, max: 255 }), fc.constantFrom(...engines), async (at, mask, engine) => {
          const copy = sealed.slice();
          copy[at]! ^= mask;
          const { out, error } = await run([copy], createDecryptStream(key, { engine }));
          expect(authCode(error)).toBe('CRYPTO_AUTH_FAILED');
          const segment = at < headerLength ? 0 : Math.floor((at - headerLength) / (segmentSize + 16));
          expect(out.length).toBeLessThanOrEqual(segment * segmentSize);
          expect(sameBytes(out, plaintext.subarray(0, out.length))).toBe(true);
        }),
        { numRuns: 200 },
      );
    });
  });

  it('fails with CRYPTO_AUTH_FAILED under the wrong key, AAD or key id', async () => {
    const sealed = await seal(randomBytes(100), 32, { aad: 'a' });
    expect(authCode((await run([sealed], createDecryptStream(key, { aad: 'b' }))).error)).toBe('CRYPTO_AUTH_FAILED');
    expect(authCode((await run([sealed], createDecryptStream(key))).error)).toBe('CRYPTO_AUTH_FAILED');
    expect(authCode((await run([sealed], createDecryptStream(randomBytes(32), { aad: 'a' }))).error)).toBe('CRYPTO_AUTH_FAILED');
    expect(authCode((await run([sealed], createDecryptStream(AesKey.generate(), { aad: 'a' }))).error)).toBe('CRYPTO_AUTH_FAILED');
  });

  it('refuses headers announcing segments above maxSegmentSize before buffering them', async () => {
    const sealed = await seal(randomBytes(100), 64);
    const { error } = await run([sealed], createDecryptStream(key, { maxSegmentSize: 32 }));
    expect(authCode(error)).toBe('CRYPTO_AUTH_FAILED');
  });

  it('errors the stream with VALIDATION_FAILED on a chunk that is not a Uint8Array', async () => {
    const transform = createEncryptStream(key);
    const writer = transform.writable.getWriter();
    const reading = collect(transform.readable).catch((e: unknown) => e);
    await writer.write('text' as never).catch(() => undefined);
    expect(authCode(await reading)).toBe('VALIDATION_FAILED');
  });

  it('rejects bad keys and options with VALIDATION_FAILED', async () => {
    await expectCode(() => createEncryptStream(new Uint8Array(8)), 'VALIDATION_FAILED');
    await expectCode(() => createEncryptStream(key, { segmentSize: 8 }), 'VALIDATION_FAILED');
    await expectCode(() => createEncryptStream(key, { segmentSize: 2 ** 25 }), 'VALIDATION_FAILED');
    await expectCode(() => createEncryptStream(key, { segmentSize: 1.5 }), 'VALIDATION_FAILED');
    await expectCode(() => createDecryptStream(key, { maxSegmentSize: 0 }), 'VALIDATION_FAILED');
    await expectCode(() => createDecryptStream(key, { other: 1 } as never), 'VALIDATION_FAILED');
  });
});
