import { afterEach, describe, expect, it, vi } from 'vitest';
import { FabricaEventBus } from '../../../src/core/events.js';
import { FabricaError } from '../../../src/core/errors.js';
import { AccessPolicy } from '../../../src/security/index.js';
import { createWebSocketBridge, WS_CLOSE, type BridgeSocket, type WebSocketBridgeOptions } from '../../../src/http/index.js';

class FakeSocket implements BridgeSocket {
  readonly sent: any[] = [];
  bufferedAmount = 0;
  closedWith: { code?: number; reason?: string } | undefined;
  pings = 0;
  constructor(withPing = true) {
    if (!withPing) this.ping = undefined;
  }
  send(data: string): void {
    this.sent.push(JSON.parse(data));
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
  }
  ping?: () => void = () => void this.pings++;
  events(): any[] {
    return this.sent.filter((m) => m.type === 'event');
  }
}

function setup(overrides: Partial<WebSocketBridgeOptions> = {}) {
  const events = new FabricaEventBus();
  const policy = new AccessPolicy();
  policy.defineRole({ name: 'member' });
  policy.grant({ role: 'member', action: 'read', resource: 'tasks/*', condition: { op: 'owner' } });
  policy.bindUser({ tenant: 'acme', user: 'ada', role: 'member' });
  policy.bindUser({ tenant: 'acme', user: 'bob', role: 'member' });
  const owners: Record<string, string> = { t1: 'ada', t2: 'bob' };
  const bridge = createWebSocketBridge({
    events,
    access: policy,
    identity: {
      async authenticate(token) {
        if (token === 'ada' || token === 'bob') return { userId: token, claims: { exp: Math.floor(Date.now() / 1000) + 3600 } };
        throw new FabricaError('AUTH_TOKEN_INVALID', 'bad token');
      },
    },
    tasks: { get: async (id: string) => ({ ownerId: owners[id] ?? null }) as never },
    heartbeatIntervalMs: 1000,
    maxBufferedBytes: 1000,
    maxSubscriptions: 2,
    ...overrides,
  });
  const connect = async (token: string, socket = new FakeSocket()) => {
    const connection = bridge.attach(socket, await bridge.authenticate(token));
    return { socket, connection };
  };
  const task = (taskId: string, state = 'queued') => ({ taskId, tenantId: 'acme', type: 'job', state, at: 1 });
  return { events, bridge, connect, task };
}

describe('WebSocket bridge', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('checks the token on connect', async () => {
    const { bridge } = setup();
    await expect(bridge.authenticate(null)).rejects.toMatchObject({ code: 'AUTH_REQUIRED' });
    await expect(bridge.authenticate('mallory')).rejects.toMatchObject({ code: 'AUTH_TOKEN_INVALID' });
    bridge.close();
  });

  it('delivers an event only to subscribers allowed to read its resource, in order', async () => {
    const { events, bridge, connect, task } = setup();
    const ada = await connect('ada');
    const bob = await connect('bob');
    expect(ada.socket.sent[0]).toMatchObject({ type: 'welcome', userId: 'ada' });
    ada.connection.receive(JSON.stringify({ type: 'subscribe', id: 's', events: ['task:*'] }));
    bob.connection.receive(JSON.stringify({ type: 'subscribe', id: 's', events: ['*'] }));
    events.emit('task:created', task('t1'));
    events.emit('task:completed', task('t1', 'completed'));
    events.emit('task:created', task('t2'));
    await expect.poll(() => bob.socket.events().length).toBe(1);
    await expect.poll(() => ada.socket.events().length).toBe(2);
    expect(ada.socket.events().map((m) => m.event)).toEqual(['task:created', 'task:completed']);
    expect(ada.socket.events()[0]).toMatchObject({ subscription: 's', resource: 'tenants/acme/tasks/t1', data: { taskId: 't1' } });
    expect(bob.socket.events()[0].data.taskId).toBe('t2');
    bridge.close();
  });

  it('filters by resource prefix on segment boundaries and by event pattern', async () => {
    const { events, bridge, connect, task } = setup();
    const ada = await connect('ada');
    ada.connection.receive(JSON.stringify({ type: 'subscribe', id: 'one', events: ['task:completed'], resource: 'tenants/acme/tasks/t1' }));
    events.emit('task:created', task('t1'));
    events.emit('task:completed', task('t10', 'completed'));
    events.emit('task:completed', task('t1', 'completed'));
    await expect.poll(() => ada.socket.events().length).toBe(1);
    expect(ada.socket.events()[0]).toMatchObject({ event: 'task:completed', data: { taskId: 't1' } });
    bridge.close();
  });

  it('drops a slow consumer with 1013 instead of buffering without bound', async () => {
    const { events, bridge, connect, task } = setup();
    const ada = await connect('ada');
    ada.connection.receive(JSON.stringify({ type: 'subscribe', id: 's', events: ['task:*'] }));
    ada.socket.bufferedAmount = 5000;
    events.emit('task:created', task('t1'));
    await expect.poll(() => ada.socket.closedWith?.code).toBe(WS_CLOSE.TRY_AGAIN_LATER);
    expect(bridge.size).toBe(0);
    const sent = ada.socket.sent.length;
    events.emit('task:created', task('t1'));
    await new Promise((r) => setImmediate(r));
    expect(ada.socket.sent.length).toBe(sent);
    bridge.close();
  });

  it('pings every interval and closes a client that stopped answering', async () => {
    vi.useFakeTimers();
    const { bridge, connect } = setup();
    const lively = await connect('ada');
    const silent = await connect('bob');
    const jsonOnly = await connect('bob', new FakeSocket(false));
    vi.advanceTimersByTime(1000);
    expect(lively.socket.pings).toBe(1);
    expect(jsonOnly.socket.sent.at(-1)).toEqual({ type: 'ping' });
    lively.connection.alive();
    jsonOnly.connection.receive(JSON.stringify({ type: 'pong' }));
    vi.advanceTimersByTime(1000);
    expect(silent.socket.closedWith?.code).toBe(WS_CLOSE.HEARTBEAT_TIMEOUT);
    expect(lively.socket.closedWith).toBeUndefined();
    expect(jsonOnly.socket.closedWith).toBeUndefined();
    bridge.close();
  });

  it('closes the connection when the token expires', async () => {
    vi.useFakeTimers();
    const { bridge } = setup({ heartbeatIntervalMs: 60_000 });
    const socket = new FakeSocket();
    bridge.attach(socket, { userId: 'ada', claims: { exp: Math.floor(Date.now() / 1000) + 5 } });
    vi.advanceTimersByTime(4000);
    expect(socket.closedWith).toBeUndefined();
    vi.advanceTimersByTime(2000);
    expect(socket.closedWith).toEqual({ code: WS_CLOSE.UNAUTHORIZED, reason: 'token expired' });
    bridge.close();
  });

  it('bounds client messages and subscriptions, and answers bad ones with errors', async () => {
    const { bridge, connect } = setup({ maxMessageBytes: 256 });
    const ada = await connect('ada');
    ada.connection.receive('not json');
    expect(ada.socket.sent.at(-1)).toMatchObject({ type: 'error', code: 'VALIDATION_FAILED' });
    ada.connection.receive(JSON.stringify({ type: 'subscribe', id: 'a', events: ['task:created'] }));
    ada.connection.receive(JSON.stringify({ type: 'subscribe', id: 'b', events: ['task:created'] }));
    ada.connection.receive(JSON.stringify({ type: 'subscribe', id: 'c', events: ['task:created'] }));
    expect(ada.socket.sent.at(-1)).toMatchObject({ type: 'error', id: 'c' });
    ada.connection.receive(JSON.stringify({ type: 'unsubscribe', id: 'a' }));
    expect(ada.socket.sent.at(-1)).toEqual({ type: 'unsubscribed', id: 'a' });
    ada.connection.receive(JSON.stringify({ type: 'subscribe', id: 'x', events: ['nope'] }));
    expect(ada.socket.sent.at(-1)).toMatchObject({ type: 'error' });
    ada.connection.receive('x'.repeat(300));
    expect(ada.socket.closedWith?.code).toBe(WS_CLOSE.POLICY_VIOLATION);
    bridge.close();
  });

  it('closes every connection with 1001 on shutdown and refuses new ones', async () => {
    const { bridge, connect } = setup();
    const ada = await connect('ada');
    bridge.close();
    expect(ada.socket.closedWith?.code).toBe(WS_CLOSE.GOING_AWAY);
    const late = new FakeSocket();
    bridge.attach(late, { userId: 'ada' });
    expect(late.closedWith?.code).toBe(WS_CLOSE.GOING_AWAY);
  });
});
