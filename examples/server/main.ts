/**
 * The example server: the whole HTTP API and the WebSocket event stream on node:http + ws.
 *
 *   npm run example:server                                  # memory backends
 *   DATABASE_URL=postgres://… REDIS_URL=redis://… npm run example:server
 *
 * Environment: PORT (default 3000), HOST (default 127.0.0.1), DATABASE_URL, REDIS_URL,
 * FABRICA_SECRET (keyring; share it between processes), FABRICA_WORKER=0 (no echo worker),
 * FABRICA_RATE_LIMIT (`<limit>/<periodMs>`, default 50/1000), FABRICA_MAX_BODY_BYTES,
 * FABRICA_CORS_ORIGINS (comma-separated), FABRICA_ADMIN_EMAIL / FABRICA_ADMIN_PASSWORD,
 * FABRICA_LOG=1 (JSON request logs on stdout).
 * Prints one line `listening <url>` once ready; stops on SIGINT/SIGTERM.
 */
import { WebSocketServer } from 'ws';
import { createHttpHandler, createWebSocketBridge } from '../../src/http/index.js';
import { attachWebSocketServer, selectBearerProtocol, serveNode } from '../../src/http/node/index.js';
import type { Logger } from '../../src/index.js';
import { configFromEnv, createServerServices } from './services.js';

const jsonLogger: Logger = {
  debug: () => undefined,
  info: (message, fields) => console.log(JSON.stringify({ level: 'info', message, ...fields })),
  warn: (message, fields) => console.log(JSON.stringify({ level: 'warn', message, ...fields })),
  error: (message, fields) => console.log(JSON.stringify({ level: 'error', message, ...fields })),
};

const config = { ...configFromEnv(), ...(process.env.FABRICA_LOG === '1' ? { logger: jsonLogger } : {}) };
const composed = await createServerServices(config);
const handler = createHttpHandler(composed.services, composed.handlerOptions);
const bridge = createWebSocketBridge({
  identity: composed.identity,
  access: composed.access,
  events: composed.events,
  tasks: composed.tasks,
  heartbeatIntervalMs: Number(process.env.FABRICA_HEARTBEAT_MS ?? 30_000),
  ...(config.logger ? { logger: config.logger } : {}),
});
const node = await serveNode(handler, { port: Number(process.env.PORT ?? 3000), host: process.env.HOST ?? '127.0.0.1' });
const wss = new WebSocketServer({ noServer: true, handleProtocols: selectBearerProtocol, maxPayload: 64 * 1024 });
attachWebSocketServer(node.server, wss, bridge, { path: '/api/events' });
console.log(`listening ${node.url}`);

let stopping = false;
const stop = async (): Promise<void> => {
  if (stopping) return;
  stopping = true;
  bridge.close();
  handler.close();
  wss.close();
  await node.close().catch(() => undefined);
  await composed.close();
  process.exit(0);
};
process.on('SIGINT', () => void stop());
process.on('SIGTERM', () => void stop());
