import { ValidationError } from '../../core/errors.js';

// Cursors are opaque to callers: base64url of "k:" + the last key returned. The tag lets us
// change the format later while still rejecting foreign strings with a clear error.
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

/** Encodes the last key of a page as an opaque cursor. */
export function encodeCursor(lastKey: string): string {
  const bytes = encoder.encode(`k:${lastKey}`);
  let binary = '';
  for (const b of bytes) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** Decodes a cursor to the key after which listing resumes. @throws `VALIDATION_FAILED` */
export function decodeCursor(cursor: string): string {
  try {
    if (!/^[A-Za-z0-9_-]*$/.test(cursor)) throw new Error('alphabet');
    const binary = atob(cursor.replace(/-/g, '+').replace(/_/g, '/'));
    const bytes = Uint8Array.from(binary, (c) => c.charCodeAt(0));
    const text = decoder.decode(bytes);
    if (!text.startsWith('k:') || text.length < 3) throw new Error('tag');
    return text.slice(2);
  } catch {
    throw new ValidationError('invalid cursor', [{ path: ['cursor'], message: 'not a cursor returned by list()', code: 'custom' }]);
  }
}
