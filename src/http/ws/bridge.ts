/**
 * The WebSocket bridge: forwards the event bus's events to connected clients, each client
 * receiving only the events it subscribed to AND about resources it may `read`.
 *
 * - Runtime-agnostic: a socket is the structural {@link BridgeSocket} (`send`, `close`,
 *   `bufferedAmount`, optional `ping`), which `ws`, Bun's and Deno's server sockets satisfy; the
 *   bridge never imports `ws`.
 * - Across processes: the bridge listens on the {@link FabricaEventBus}, which spans processes
 *   through PubSub, so an event raised in one process reaches clients connected to another.
 * - Memory is bounded: before every send the socket's `bufferedAmount` is compared with
 *   `maxBufferedBytes`; a client above it is dropped with close code 1013 (Try Again Later)
 *   instead of being buffered for ever. Client messages are capped too, as are subscriptions.
 * - Liveness: every `heartbeatIntervalMs` a ping goes out (a protocol ping when the socket has
 *   `ping`, else `{"type":"ping"}`); a client that did not answer since the previous one is closed.
 * - Tokens: checked on connect; the connection is closed (4401) when the token expires.
 */
import { z } from 'zod';
import { FABRICA_EVENT_NAMES, type FabricaEventBus, type FabricaEventMap, type FabricaEventName } from '../../core/events.js';
import { FabricaError, hasErrorCode, isFabricaError } from '../../core/errors.js';
import type { Logger } from '../../core/logger.js';
import { silentLogger } from '../../core/logger.js';
import { parseInput } from '../../core/validation.js';
import type { AccessResource } from '../../security/index.js';
import { platformResources, systemResource, taskResource, userQuotaResource } from '../internal/paths.js';
import type { HttpAccessControl, HttpIdentity, HttpPrincipal, HttpTasks } from '../services.js';

/**
 * Close codes the bridge uses (RFC 6455 §7.4; 4000–4999 are application codes).
 *
 * @example
 * ```ts
 * import { WS_CLOSE } from 'digital-fabrica/http';
 * const reconnect = (code: number) => code === WS_CLOSE.TRY_AGAIN_LATER || code === WS_CLOSE.UNAUTHORIZED; // the latter with a fresh token
 * ```
 */
export const WS_CLOSE = Object.freeze({
  /** The server is shutting down. */
  GOING_AWAY: 1001,
  /** A malformed or oversized client message. */
  POLICY_VIOLATION: 1008,
  /** Slow consumer: the client did not read fast enough and its buffer passed the limit. */
  TRY_AGAIN_LATER: 1013,
  /** Missing, invalid or expired token. */
  UNAUTHORIZED: 4401,
  /** No answer to the previous heartbeat. */
  HEARTBEAT_TIMEOUT: 4408,
});

/**
 * What the bridge needs from a server-side WebSocket. `ws`'s `WebSocket` satisfies it, and so do
 * Bun's `ServerWebSocket` and Deno's `WebSocket` (without `ping`: the bridge then pings in JSON).
 *
 * @example
 * ```ts
 * import type { BridgeSocket } from 'digital-fabrica/http';
 * const sent: string[] = [];
 * const fake: BridgeSocket = { bufferedAmount: 0, send: (d) => void sent.push(d), close: () => undefined };
 * ```
 */
export interface BridgeSocket {
  /** Queues a text frame. */
  send(data: string): void;
  /** Starts the closing handshake. */
  close(code?: number, reason?: string): void;
  /** Bytes queued but not yet sent. */
  readonly bufferedAmount: number;
  /** Sends a protocol-level ping (answered by the client's stack with a pong). */
  ping?(): void;
}

/** Options of {@link createWebSocketBridge}. */
export interface WebSocketBridgeOptions {
  /** Verifies tokens on connect. */
  readonly identity: Pick<HttpIdentity, 'authenticate'>;
  /** Decides which events a client may see (`read` on the event's resource). */
  readonly access: Pick<HttpAccessControl, 'can'>;
  /** The events to forward (connect it to PubSub to span processes). */
  readonly events: FabricaEventBus;
  /** Looks up task owners, so owner-conditioned rules apply to task events. */
  readonly tasks?: Pick<HttpTasks, 'get'>;
  /** Tenant of `resource:update` events without one (default `default`). */
  readonly defaultTenant?: string;
  /** Tenant of platform resources (default `platform`), as in the HTTP handler. */
  readonly platformTenant?: string;
  /** Ping interval, ms (default 30 000). */
  readonly heartbeatIntervalMs?: number;
  /** A client whose unsent data exceeds this many bytes is dropped (default 1 MiB). */
  readonly maxBufferedBytes?: number;
  /** Largest client message, bytes (default 16 KiB). */
  readonly maxMessageBytes?: number;
  /** Most subscriptions per connection (default 64). */
  readonly maxSubscriptions?: number;
  /** Diagnostics (user ids and codes only). */
  readonly logger?: Logger;
}

/** One accepted connection: the runtime glue forwards the socket's events to it. */
export interface BridgeConnection {
  /** The authenticated user. */
  readonly principal: HttpPrincipal;
  /** A text message from the client. */
  receive(data: string): void;
  /** A pong (or any sign of life) from the client. */
  alive(): void;
  /** The socket closed. Idempotent. */
  closed(): void;
}

/**
 * The bridge between the event bus and WebSocket clients.
 *
 * @example
 * ```ts
 * import type { WebSocketBridge } from 'digital-fabrica/http';
 * declare const bridge: WebSocketBridge;
 * console.log(bridge.size); // connected clients
 * ```
 */
export interface WebSocketBridge {
  /**
   * Checks a bearer token (call it before accepting the upgrade, to answer 401 early).
   * @throws `AUTH_REQUIRED` (no token), `AUTH_TOKEN_INVALID`, `AUTH_TOKEN_EXPIRED`
   */
  authenticate(token: string | null): Promise<HttpPrincipal>;
  /** Registers an accepted socket of an authenticated user; sends the welcome message. */
  attach(socket: BridgeSocket, principal: HttpPrincipal): BridgeConnection;
  /** Connected clients. */
  readonly size: number;
  /** Closes every connection (1001) and detaches from the bus. Idempotent. */
  close(): void;
}

/** A message from a client. */
const clientMessageSchema = z.discriminatedUnion('type', [
  z.strictObject({
    type: z.literal('subscribe'),
    id: z.string().min(1).max(64),
    events: z
      .array(z.string().regex(/^(\*|[a-z]+:\*|[a-z]+:[a-z]+)$/, 'an event name, "domain:*" or "*"'))
      .min(1)
      .max(32),
    resource: z.string().min(1).max(1024).regex(/^tenants\/[^/]+(\/[^/]+)*$/, '"tenants/<tenant>[/<path>]"').optional(),
  }),
  z.strictObject({ type: z.literal('unsubscribe'), id: z.string().min(1).max(64) }),
  z.strictObject({ type: z.literal('ping') }),
  z.strictObject({ type: z.literal('pong') }),
]);

interface Subscription {
  readonly id: string;
  readonly events: readonly string[];
  readonly resource: string | undefined;
}

interface Client {
  readonly socket: BridgeSocket;
  readonly principal: HttpPrincipal;
  readonly subscriptions: Map<string, Subscription>;
  alive: boolean;
  open: boolean;
  expiry: ReturnType<typeof setTimeout> | undefined;
}

const OWNER_CACHE = 10_000;

function eventMatches(patterns: readonly string[], name: string): boolean {
  for (const p of patterns) {
    if (p === '*' || p === name) return true;
    if (p.endsWith(':*') && name.startsWith(p.slice(0, -1))) return true;
  }
  return false;
}

function pathOf(resource: AccessResource): string {
  return `tenants/${resource.tenant}/${resource.path}`;
}

/** A resource filter matches its own path and everything below it, on segment boundaries. */
function underPrefix(prefix: string | undefined, path: string): boolean {
  return prefix === undefined || path === prefix || path.startsWith(`${prefix}/`);
}

/**
 * Creates the bridge and starts listening on the bus.
 *
 * @throws `VALIDATION_FAILED` for malformed options.
 * @example
 * ```ts
 * import { createWebSocketBridge, type HttpServices } from 'digital-fabrica/http';
 * declare const services: HttpServices;
 * const bridge = createWebSocketBridge({ identity: services.identity, access: services.access, events: services.events, tasks: services.tasks });
 * // With `ws`: attachWebSocketServer(wss, bridge) from 'digital-fabrica/http/node'.
 * bridge.close();
 * ```
 */
export function createWebSocketBridge(options: WebSocketBridgeOptions): WebSocketBridge {
  const opts = parseInput(
    z.looseObject({
      identity: z.custom((v) => typeof (v as { authenticate?: unknown } | null)?.authenticate === 'function', 'identity must have authenticate()'),
      access: z.custom((v) => typeof (v as { can?: unknown } | null)?.can === 'function', 'access must have can()'),
      events: z.custom((v) => typeof (v as { on?: unknown } | null)?.on === 'function', 'events must be a FabricaEventBus'),
      heartbeatIntervalMs: z.number().int().min(10).max(3_600_000).optional(),
      maxBufferedBytes: z.number().int().min(1).optional(),
      maxMessageBytes: z.number().int().min(64).max(1 << 20).optional(),
      maxSubscriptions: z.number().int().min(1).max(10_000).optional(),
    }),
    options,
    'WebSocket bridge options',
  ) as unknown as WebSocketBridgeOptions;
  const logger = opts.logger ?? silentLogger;
  const platform = opts.platformTenant ?? 'platform';
  const defaultTenant = opts.defaultTenant ?? 'default';
  const maxBuffered = opts.maxBufferedBytes ?? 1024 * 1024;
  const maxMessage = opts.maxMessageBytes ?? 16 * 1024;
  const maxSubscriptions = opts.maxSubscriptions ?? 64;
  const clients = new Set<Client>();
  const owners = new Map<string, string | null>();
  let closed = false;
  // Events are dispatched one after another, so an owner lookup never reorders a task's events.
  let chain: Promise<void> = Promise.resolve();

  const ownerOf = async (taskId: string): Promise<string | null> => {
    const known = owners.get(taskId);
    if (known !== undefined) return known;
    if (!opts.tasks) return null;
    let owner: string | null = null;
    try {
      owner = (await opts.tasks.get(taskId)).ownerId;
    } catch (err) {
      if (!hasErrorCode(err, 'NOT_FOUND')) logger.warn('ws: task owner lookup failed', { code: isFabricaError(err) ? err.code : 'UNKNOWN' });
      return null;
    }
    if (owners.size >= OWNER_CACHE) owners.delete(owners.keys().next().value!);
    owners.set(taskId, owner);
    return owner;
  };

  const resourceOf = async <K extends FabricaEventName>(name: K, payload: FabricaEventMap[K]): Promise<AccessResource> => {
    switch (name) {
      case 'task:created':
      case 'task:updated':
      case 'task:completed':
      case 'task:failed':
      case 'task:dead': {
        const e = payload as FabricaEventMap['task:created'];
        return taskResource({ tenantId: e.tenantId, id: e.taskId, ownerId: await ownerOf(e.taskId) });
      }
      case 'resource:update': {
        const e = payload as FabricaEventMap['resource:update'];
        return userQuotaResource(e.tenantId ?? defaultTenant, e.userId);
      }
      case 'resource:alert':
      case 'resource:optimize':
        return platformResources(platform);
      case 'system:metrics':
        return systemResource(platform, 'metrics');
      case 'system:alerts':
        return systemResource(platform, 'alerts');
      default:
        return systemResource(platform, 'maintenance');
    }
  };

  const drop = (client: Client, code: number, reason: string): void => {
    if (!client.open) return;
    client.open = false;
    clients.delete(client);
    clearTimeout(client.expiry);
    try {
      client.socket.close(code, reason);
    } catch {
      // The socket may already be gone; nothing more to release.
    }
  };

  const send = (client: Client, message: unknown): void => {
    if (!client.open) return;
    if (client.socket.bufferedAmount > maxBuffered) {
      logger.warn('ws: slow consumer dropped', { userId: client.principal.userId, buffered: client.socket.bufferedAmount });
      drop(client, WS_CLOSE.TRY_AGAIN_LATER, 'slow consumer');
      return;
    }
    try {
      client.socket.send(JSON.stringify(message));
    } catch {
      drop(client, WS_CLOSE.GOING_AWAY, 'send failed');
    }
  };

  const dispatch = async <K extends FabricaEventName>(name: K, payload: FabricaEventMap[K]): Promise<void> => {
    // Only pay for the owner lookup when someone listens to this event.
    const interested: [Client, Subscription[]][] = [];
    for (const client of clients) {
      const subs = [...client.subscriptions.values()].filter((s) => eventMatches(s.events, name));
      if (subs.length > 0) interested.push([client, subs]);
    }
    if (interested.length === 0) return;
    const resource = await resourceOf(name, payload);
    const path = pathOf(resource);
    for (const [client, subs] of interested) {
      const sub = subs.find((s) => underPrefix(s.resource, path));
      if (sub === undefined) continue;
      let allowed = false;
      try {
        allowed = opts.access.can(client.principal.userId, resource, 'read');
      } catch {
        allowed = false;
      }
      if (allowed) send(client, { type: 'event', subscription: sub.id, event: name, resource: path, data: payload });
    }
  };

  const offs = FABRICA_EVENT_NAMES.map((name) =>
    opts.events.on(name, (payload) => {
      chain = chain.then(() => dispatch(name, payload)).catch((err: unknown) => logger.warn('ws: dispatch failed', { event: name, code: isFabricaError(err) ? err.code : 'UNKNOWN' }));
    }),
  );

  const heartbeat = setInterval(() => {
    for (const client of clients) {
      if (!client.alive) {
        drop(client, WS_CLOSE.HEARTBEAT_TIMEOUT, 'heartbeat timeout');
        continue;
      }
      client.alive = false;
      if (client.socket.ping) {
        try {
          client.socket.ping();
        } catch {
          drop(client, WS_CLOSE.GOING_AWAY, 'ping failed');
        }
      } else {
        send(client, { type: 'ping' });
      }
    }
  }, opts.heartbeatIntervalMs ?? 30_000);
  (heartbeat as { unref?: () => void }).unref?.();

  const onMessage = (client: Client, data: string): void => {
    client.alive = true;
    if (data.length > maxMessage) {
      drop(client, WS_CLOSE.POLICY_VIOLATION, 'message too large');
      return;
    }
    let message: z.output<typeof clientMessageSchema>;
    try {
      message = parseInput(clientMessageSchema, JSON.parse(data) as unknown, 'message');
    } catch (err) {
      send(client, { type: 'error', code: 'VALIDATION_FAILED', message: isFabricaError(err) ? err.message : 'message is not valid JSON' });
      return;
    }
    switch (message.type) {
      case 'subscribe':
        if (!client.subscriptions.has(message.id) && client.subscriptions.size >= maxSubscriptions) {
          send(client, { type: 'error', id: message.id, code: 'VALIDATION_FAILED', message: `at most ${maxSubscriptions} subscriptions` });
          return;
        }
        client.subscriptions.set(message.id, { id: message.id, events: message.events, resource: message.resource });
        send(client, { type: 'subscribed', id: message.id });
        return;
      case 'unsubscribe':
        client.subscriptions.delete(message.id);
        send(client, { type: 'unsubscribed', id: message.id });
        return;
      case 'ping':
        send(client, { type: 'pong' });
        return;
      case 'pong':
        return;
    }
  };

  return {
    async authenticate(token) {
      if (token === null || token.length === 0) throw new FabricaError('AUTH_REQUIRED', 'a bearer access token is required');
      return opts.identity.authenticate(token);
    },
    attach(socket, principal) {
      const client: Client = { socket, principal, subscriptions: new Map(), alive: true, open: true, expiry: undefined };
      if (closed) {
        client.open = false;
        socket.close(WS_CLOSE.GOING_AWAY, 'shutting down');
      } else {
        clients.add(client);
        const exp = principal.claims?.exp;
        if (typeof exp === 'number') {
          const ms = Math.min(Math.max(0, exp * 1000 - Date.now()), 2 ** 31 - 1);
          client.expiry = setTimeout(() => drop(client, WS_CLOSE.UNAUTHORIZED, 'token expired'), ms);
          (client.expiry as { unref?: () => void }).unref?.();
        }
        send(client, { type: 'welcome', userId: principal.userId, heartbeatMs: opts.heartbeatIntervalMs ?? 30_000 });
      }
      return {
        principal,
        receive: (data) => onMessage(client, data),
        alive() {
          client.alive = true;
        },
        closed() {
          client.open = false;
          clients.delete(client);
          clearTimeout(client.expiry);
        },
      };
    },
    get size() {
      return clients.size;
    },
    close() {
      if (closed) return;
      closed = true;
      clearInterval(heartbeat);
      for (const off of offs) off();
      for (const client of [...clients]) drop(client, WS_CLOSE.GOING_AWAY, 'shutting down');
    },
  };
}
