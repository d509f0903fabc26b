/**
 * End-to-end helpers: example servers as child processes (real sockets, real process
 * boundaries), a small JSON client, and a WebSocket client that awaits messages with a deadline.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** A running example server process. */
export interface ServerProcess {
  readonly url: string;
  readonly output: () => string;
  stop(): Promise<void>;
}

/** Starts `examples/server/main.ts` in a child process and resolves once it listens. */
export async function startServer(env: Readonly<Record<string, string>>): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', 'examples/server/main.ts'], {
    cwd: ROOT,
    env: { ...process.env, PORT: '0', FABRICA_WORKER: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await new Promise<string>((resolve, reject) => {
    const onData = () => {
      const m = /listening (http:\/\/\S+)/.exec(out);
      if (m) resolve(m[1]!);
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${out}`)));
  });
  return {
    url,
    output: () => out,
    async stop() {
      if (child.exitCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** A JSON response. */
export interface JsonResponse<T = any> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

/** Sends a request; parses JSON and problem+json bodies. */
export async function call<T = any>(
  base: string,
  method: string,
  path: string,
  options: { token?: string; body?: unknown; raw?: BodyInit; headers?: Record<string, string> } = {},
): Promise<JsonResponse<T>> {
  const headers: Record<string, string> = { ...options.headers };
  if (options.token) headers.authorization = `Bearer ${options.token}`;
  let body: BodyInit | undefined = options.raw;
  if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] ??= 'application/json';
  }
  const res = await fetch(base + path, { method, headers, ...(body === undefined ? {} : { body }) });
  const text = await res.text();
  const type = res.headers.get('content-type') ?? '';
  return { status: res.status, headers: res.headers, body: (type.includes('json') && text ? JSON.parse(text) : text) as T };
}

/** Signs a user up and in; returns its id and tokens. */
export async function newUser(base: string, name: string, loginBase = base): Promise<{ id: string; email: string; password: string; token: string; refreshToken: string }> {
  const email = `${name}-${Math.random().toString(36).slice(2, 8)}@example.com`;
  const password = 'correct horse battery staple';
  const created = await call(base, 'POST', '/api/users', { body: { email, displayName: name, password } });
  if (created.status !== 201) throw new Error(`signup failed: ${created.status} ${JSON.stringify(created.body)}`);
  const login = await call(loginBase, 'POST', '/api/auth/login', { body: { email, password } });
  if (login.status !== 200) throw new Error(`login failed: ${login.status} ${JSON.stringify(login.body)}`);
  return { id: created.body.id, email, password, token: login.body.accessToken, refreshToken: login.body.refreshToken };
}

/** Logs in. */
export async function login(base: string, email: string, password: string): Promise<string> {
  const res = await call(base, 'POST', '/api/auth/login', { body: { email, password } });
  if (res.status !== 200) throw new Error(`login failed: ${res.status}`);
  return res.body.accessToken as string;
}

/** A WebSocket client collecting parsed messages. */
export interface WsClient {
  readonly messages: any[];
  /** Resolves with the first message (past or future) matching `predicate`, or rejects after `ms`. */
  next(predicate: (m: any) => boolean, ms?: number): Promise<any>;
  send(message: unknown): void;
  /** Resolves with the close code. */
  closed(): Promise<number>;
  close(): void;
  readonly socket: WebSocket;
}

/** Connects to the event stream with a bearer token (subprotocol) and waits for the welcome. */
export async function connectWs(base: string, token: string | undefined): Promise<WsClient> {
  const url = base.replace(/^http/, 'ws') + '/api/events';
  const socket = token === undefined ? new WebSocket(url) : new WebSocket(url, ['fabrica.bearer', token]);
  const messages: any[] = [];
  const waiters = new Set<() => void>();
  socket.on('message', (data) => {
    messages.push(JSON.parse(String(data)));
    for (const w of waiters) w();
  });
  const closedP = new Promise<number>((resolve) => socket.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    socket.once('open', () => resolve());
    socket.once('unexpected-response', (_req, res) => reject(Object.assign(new Error(`HTTP ${res.statusCode}`), { status: res.statusCode })));
    socket.once('error', reject);
  });
  const client: WsClient = {
    messages,
    socket,
    next(predicate, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = () => {
          const found = messages.find(predicate);
          if (found !== undefined) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`no matching WebSocket message within ${ms} ms; got ${JSON.stringify(messages)}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    send: (m) => socket.send(JSON.stringify(m)),
    closed: () => closedP,
    close: () => socket.close(),
  };
  await client.next((m) => m.type === 'welcome');
  return client;
}
