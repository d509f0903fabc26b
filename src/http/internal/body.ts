/**
 * Request bodies: strict media type, a hard byte limit enforced while streaming (a lying or
 * missing Content-Length cannot make us buffer more than the limit), strict UTF-8 and JSON.
 */
import { FabricaError, PayloadTooLargeError, ValidationError } from '../../core/errors.js';

/** True for `application/json` with at most a `charset=utf-8` parameter (RFC 8259 §8.1: JSON is UTF-8). */
export function isJsonMediaType(value: string | null): boolean {
  if (value === null) return false;
  const [type, ...params] = value.split(';');
  if (type!.trim().toLowerCase() !== 'application/json') return false;
  return params.every((p) => {
    const [k, v] = p.split('=');
    return k!.trim().toLowerCase() === 'charset' && (v ?? '').trim().replace(/^"|"$/g, '').toLowerCase() === 'utf-8';
  });
}

/**
 * Whether the request carries a body. `request.body` is the signal (a `Request` built in code has
 * a body without any Content-Length header); an explicit `Content-Length: 0` means none.
 */
export function hasBody(request: Request): boolean {
  return request.body !== null && request.headers.get('content-length')?.trim() !== '0';
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Reads and parses a JSON body of at most `maxBytes`.
 * @throws `UNSUPPORTED_MEDIA_TYPE`, `PAYLOAD_TOO_LARGE`, `VALIDATION_FAILED` (malformed UTF-8 or JSON)
 */
export async function readJsonBody(request: Request, maxBytes: number): Promise<unknown> {
  if (!hasBody(request)) return undefined;
  if (!isJsonMediaType(request.headers.get('content-type'))) {
    throw new FabricaError('UNSUPPORTED_MEDIA_TYPE', 'request bodies must be application/json');
  }
  const declared = Number(request.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) throw tooLarge(maxBytes);
  const bytes = await readLimited(request, maxBytes);
  if (bytes.byteLength === 0) return undefined;
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    throw malformed('request body is not valid UTF-8');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw malformed('request body is not valid JSON');
  }
}

async function readLimited(request: Request, maxBytes: number): Promise<Uint8Array> {
  const body = request.body;
  if (body === null) return new Uint8Array(0);
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      // Stop pulling: the rest of an oversized body is never buffered.
      await reader.cancel().catch(() => undefined);
      throw tooLarge(maxBytes);
    }
    chunks.push(value);
  }
  if (chunks.length === 1) return chunks[0]!;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return out;
}

function tooLarge(maxBytes: number): PayloadTooLargeError {
  return new PayloadTooLargeError(`request body exceeds ${maxBytes} bytes`, { details: { maxBytes } });
}

function malformed(message: string): ValidationError {
  return new ValidationError(message, [{ path: [], message, code: 'invalid_json' }]);
}
