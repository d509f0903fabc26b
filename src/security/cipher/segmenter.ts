/**
 * Cuts a byte stream into fixed-size segments while holding at most one segment in memory.
 * A segment is only released once at least one byte after it has arrived, so the caller knows it
 * is not the last one; whatever remains at the end of the stream is the final segment.
 * @internal
 */
export class Segmenter {
  readonly #size: number;
  #buffer: Uint8Array | undefined;
  #fill = 0;

  constructor(size: number) {
    this.#size = size;
  }

  /**
   * Yields every segment that `chunk` completes and that is known not to be the last. Yielded
   * arrays are views into `chunk` or into this segmenter's own buffer, which the next segment
   * overwrites: consume (seal, open, copy) each one before resuming the generator.
   */
  *push(chunk: Uint8Array): Generator<Uint8Array, void, undefined> {
    const size = this.#size;
    let offset = 0;
    while (offset < chunk.length) {
      if (this.#fill === size) {
        // A full buffer followed by more input: it is not the last segment. The buffer is reused
        // for the next segment once the caller resumes the generator, i.e. after it consumed this one.
        this.#fill = 0;
        yield this.#buffer!;
        continue;
      }
      if (this.#fill === 0 && chunk.length - offset > size) {
        // Whole segment inside the chunk with bytes after it: no copy needed.
        yield chunk.subarray(offset, offset + size);
        offset += size;
        continue;
      }
      const n = Math.min(size - this.#fill, chunk.length - offset);
      this.#buffer ??= new Uint8Array(size);
      this.#buffer.set(chunk.subarray(offset, offset + n), this.#fill);
      this.#fill += n;
      offset += n;
    }
  }

  /** Bytes held back: the final segment (possibly empty). */
  rest(): Uint8Array {
    const rest = this.#buffer?.subarray(0, this.#fill) ?? new Uint8Array(0);
    this.#buffer = undefined;
    this.#fill = 0;
    return rest;
  }
}
