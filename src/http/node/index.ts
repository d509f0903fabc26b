/**
 * Node helpers for the HTTP layer: run the Fetch-API handler on `node:http` (or Express), and
 * attach the WebSocket bridge to a `ws` server. Node-only; `ws` is typed structurally here and
 * never imported, so it stays an optional peer dependency.
 *
 * ```ts
 * import { toNodeListener, attachWebSocketServer } from 'digital-fabrica/http/node';
 * ```
 *
 * @module
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { Readable } from 'node:stream';
import { isFabricaError } from '../../core/errors.js';
import type { HttpRequestInfo } from '../options.js';
import { responseBytes } from '../internal/fast-body.js';
import type { BridgeSocket, WebSocketBridge } from '../ws/bridge.js';

/** A Fetch-API handler, as `createHttpHandler` (from `digital-fabrica/http`) returns. */
export type FetchHandler = (request: Request, info?: HttpRequestInfo) => Promise<Response>;

/** A `node:http` request listener (also an Express middleware: mount it before body parsers). */
export type NodeListener = (req: IncomingMessage, res: ServerResponse) => void;

/**
 * Adapts a Fetch-API handler to `node:http`: builds a `Request` (body streamed, aborted when the
 * client goes away), passes the peer address, and writes the `Response` back.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { toNodeListener } from 'digital-fabrica/http/node';
 * const handler = async (request: Request) => Response.json({ path: new URL(request.url).pathname });
 * const server = createServer(toNodeListener(handler)).listen(0);
 * server.close();
 * ```
 */
export function toNodeListener(handler: FetchHandler): NodeListener {
  return (req, res) => {
    void serve(handler, req, res);
  };
}

async function serve(handler: FetchHandler, req: IncomingMessage, res: ServerResponse): Promise<void> {
  try {
    const method = req.method ?? 'GET';
    const host = req.headers.host ?? 'localhost';
    const headers = new Headers();
    const raw = req.rawHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!;
      if (name.charCodeAt(0) !== 58 /* HTTP/2 pseudo-headers */) headers.append(name, raw[i + 1]!);
    }
    const init: RequestInit & { duplex?: 'half' } = { method, headers };
    if (method !== 'GET' && method !== 'HEAD') {
      // Only a request with a body can be left half-read when the client goes away: abort it then.
      const controller = new AbortController();
      res.once('close', () => {
        if (!res.writableFinished) controller.abort();
      });
      init.signal = controller.signal;
      init.body = Readable.toWeb(req) as ReadableStream<Uint8Array>;
      init.duplex = 'half';
    }
    const request = new Request(`http://${host}${req.url ?? '/'}`, init);
    const response = await handler(request, req.socket.remoteAddress === undefined ? {} : { remoteAddress: req.socket.remoteAddress });
    await writeResponse(response, res);
  } catch (err) {
    // The handler never rejects; this is a broken socket or a malformed URL.
    if (!res.headersSent) {
      res.statusCode = isFabricaError(err) ? err.status : 400;
      res.setHeader('content-type', 'application/problem+json');
      res.end(JSON.stringify({ type: 'about:blank', title: 'Bad Request', status: res.statusCode, code: 'VALIDATION_FAILED', detail: 'malformed request' }));
    } else {
      res.destroy();
    }
  }
}

async function writeResponse(response: Response, res: ServerResponse): Promise<void> {
  res.statusCode = response.status;
  const cookies = response.headers.getSetCookie();
  for (const [name, value] of response.headers) if (name !== 'set-cookie') res.setHeader(name, value);
  if (cookies.length > 0) res.setHeader('set-cookie', cookies);
  if (response.body === null) {
    res.end();
    return;
  }
  const bytes = responseBytes(response);
  if (bytes !== undefined) {
    // The handler's own responses: their bytes are known, so skip the Response stream machinery.
    res.end(bytes);
    return;
  }
  if (response.headers.has('content-length')) {
    // A sized body is small and already in memory: one write.
    res.end(new Uint8Array(await response.arrayBuffer()));
    return;
  }
  Readable.fromWeb(response.body as import('node:stream/web').ReadableStream<Uint8Array>).pipe(res);
}

/** A started server. */
export interface NodeServer {
  /** The `node:http` server. */
  readonly server: Server;
  /** `http://host:port`. */
  readonly url: string;
  /** Stops accepting and closes idle connections. */
  close(): Promise<void>;
}

/**
 * Serves a Fetch-API handler on `node:http` and resolves once listening.
 *
 * @example
 * ```ts
 * import { serveNode } from 'digital-fabrica/http/node';
 * const { url, close } = await serveNode(async () => new Response('ok'), { port: 0 });
 * console.log((await fetch(url)).status); // 200
 * await close();
 * ```
 */
export async function serveNode(handler: FetchHandler, options: { readonly port?: number; readonly host?: string } = {}): Promise<NodeServer> {
  const server = createServer(toNodeListener(handler));
  // Keep-alive shorter than common load balancers' idle timeouts would cause resets; Node's 5 s default is kept.
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => resolve());
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    server,
    url: `http://${host}:${address.port}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeIdleConnections();
      }),
  };
}

/** What the helper needs from a `ws` WebSocket (structural: `ws` is never imported). */
export interface NodeWebSocket extends BridgeSocket {
  /** Subscribes to `message`, `pong` and `close`. */
  on(event: 'message', listener: (data: unknown, isBinary: boolean) => void): unknown;
  /** Pong frames: the client is alive. */
  on(event: 'pong', listener: () => void): unknown;
  /** The connection closed. */
  on(event: 'close', listener: () => void): unknown;
  /** Socket errors (the connection closes after them). */
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** What the helper needs from a `ws` `WebSocketServer` created with `{ noServer: true }`. */
export interface NodeWebSocketServer {
  /** Completes an upgrade. */
  handleUpgrade(request: IncomingMessage, socket: Duplex, head: Buffer, callback: (socket: NodeWebSocket, request: IncomingMessage) => void): void;
}

/**
 * The subprotocol browsers use to carry the token.
 *
 * @example
 * ```ts
 * import { BEARER_PROTOCOL } from 'digital-fabrica/http/node';
 * const protocols = (token: string) => [BEARER_PROTOCOL, token]; // new WebSocket(url, protocols(token))
 * ```
 */
export const BEARER_PROTOCOL = 'fabrica.bearer';

/**
 * `handleProtocols` for `ws`: selects {@link BEARER_PROTOCOL} when the client offered it (the token
 * travels as the next offered protocol, so it never appears in URLs or access logs).
 *
 * @example
 * ```ts
 * import { WebSocketServer } from 'ws';
 * import { selectBearerProtocol } from 'digital-fabrica/http/node';
 * const wss = new WebSocketServer({ noServer: true, handleProtocols: selectBearerProtocol });
 * wss.close();
 * ```
 */
export function selectBearerProtocol(protocols: Set<string>): string | false {
  return protocols.has(BEARER_PROTOCOL) ? BEARER_PROTOCOL : false;
}

/**
 * The bearer token of an upgrade request: `Authorization: Bearer`, else the `fabrica.bearer`
 * subprotocol pair; `null` when there is none.
 *
 * @example
 * ```ts
 * import type { IncomingMessage } from 'node:http';
 * import { upgradeToken } from 'digital-fabrica/http/node';
 * const request = { headers: { 'sec-websocket-protocol': 'fabrica.bearer, eyJ.x.y' } } as IncomingMessage;
 * console.log(upgradeToken(request)); // 'eyJ.x.y'
 * ```
 */
export function upgradeToken(request: IncomingMessage): string | null {
  const auth = request.headers.authorization;
  if (auth !== undefined && /^bearer /i.test(auth)) return auth.slice(7).trim();
  const offered = (request.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim());
  const at = offered.indexOf(BEARER_PROTOCOL);
  return at >= 0 && offered[at + 1] ? offered[at + 1]! : null;
}

/**
 * Serves the WebSocket bridge at `path` on a `node:http` server: the token is checked BEFORE the
 * upgrade (401 without a valid one, 404 on other paths), then the socket is handed to the bridge.
 * Returns a function that detaches the upgrade listener.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { WebSocketServer } from 'ws';
 * import { attachWebSocketServer, selectBearerProtocol } from 'digital-fabrica/http/node';
 * import type { WebSocketBridge } from 'digital-fabrica/http';
 * declare const bridge: WebSocketBridge;
 * const server = createServer();
 * const wss = new WebSocketServer({ noServer: true, handleProtocols: selectBearerProtocol, maxPayload: 64 * 1024 });
 * const detach = attachWebSocketServer(server, wss, bridge, { path: '/api/events' });
 * detach();
 * ```
 */
export function attachWebSocketServer(server: Server, wss: NodeWebSocketServer, bridge: WebSocketBridge, options: { readonly path?: string } = {}): () => void {
  const path = options.path ?? '/api/events';
  const onUpgrade = (request: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const pathname = (request.url ?? '/').split('?')[0];
    if (pathname !== path) {
      reject(socket, 404, 'Not Found');
      return;
    }
    bridge.authenticate(upgradeToken(request)).then(
      (principal) => {
        wss.handleUpgrade(request, socket, head, (ws) => {
          const connection = bridge.attach(ws, principal);
          ws.on('message', (data, isBinary) => {
            if (isBinary) connection.receive('\u0000binary');
            else connection.receive(String(data));
          });
          ws.on('pong', () => connection.alive());
          ws.on('close', () => connection.closed());
          ws.on('error', () => connection.closed());
        });
      },
      () => reject(socket, 401, 'Unauthorized'),
    );
  };
  server.on('upgrade', onUpgrade);
  return () => void server.off('upgrade', onUpgrade);
}

function reject(socket: Duplex, status: number, text: string): void {
  socket.end(`HTTP/1.1 ${status} ${text}\r\nConnection: close\r\nContent-Length: 0\r\nWWW-Authenticate: Bearer\r\n\r\n`);
}
