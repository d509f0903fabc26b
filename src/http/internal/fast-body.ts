/**
 * A side channel from the handler to the Node helper: the bytes of a response the handler built
 * itself, so `toNodeListener` can write them directly instead of draining the Response's stream
 * (undici's body machinery costs more than the rest of a small response). Other runtimes ignore it.
 */
const bytesOf = new WeakMap<Response, Uint8Array>();

/** Remembers `bytes` as the body of `response`. */
export function withBytes(response: Response, bytes: Uint8Array): Response {
  bytesOf.set(response, bytes);
  return response;
}

/** The remembered bytes of an unread `response`, if the handler built it. */
export function responseBytes(response: Response): Uint8Array | undefined {
  return response.bodyUsed ? undefined : bytesOf.get(response);
}
