/**
 * `npm run demo`: what Digital Fabrica can do so far, on the in-memory backends (no setup).
 * Each section is one capability; later features add their own.
 */
import { createFabrica, isFabricaError, ManualClock, uuidv7Timestamp } from '../src/index.js';
import { createMemoryPubSub, MemoryPubSubHub } from '../src/adapters/memory/index.js';
import { title } from './demo-support.js';
import { demoSecurity } from './demo-security.js';
import { demoAccess } from './demo-access.js';
import { demoIdentity } from './demo-identity.js';
import { demoResources } from './demo-resources.js';
import { demoTasks } from './demo-tasks.js';

async function demoFoundation(): Promise<void> {
  const clock = new ManualClock(Date.UTC(2026, 10, 26, 9, 0, 0));
  const hub = new MemoryPubSubHub(); // two SDK instances talking as two processes would
  const fabrica = await createFabrica({ clock, pubsub: createMemoryPubSub({ hub }) });
  const peer = await createFabrica({ clock, pubsub: createMemoryPubSub({ hub }) });

  title('Versioned documents');
  const { version } = await fabrica.storage.put('projects', 'acme/42', { name: 'Render farm', owner: 'ada' });
  console.log(`put projects/acme/42 -> version ${version}`);
  try {
    await fabrica.storage.put('projects', 'acme/42', { name: 'stale write' }, { ifVersion: version - 1 });
  } catch (err) {
    if (isFabricaError(err)) console.log(`stale compare-and-set refused: ${err.code} (HTTP ${err.status})`);
  }

  title('Atomic transaction: unique e-mail');
  const register = (id: string) =>
    fabrica.storage.txn({
      compare: [{ namespace: 'emails', key: 'ada@example.com', exists: false }],
      success: [
        { type: 'put', namespace: 'users', key: id, value: { email: 'ada@example.com' } },
        { type: 'put', namespace: 'emails', key: 'ada@example.com', value: id },
      ],
    });
  const attempts = await Promise.all(['u1', 'u2', 'u3'].map(register));
  console.log(`3 concurrent sign-ups with one e-mail -> ${attempts.filter((a) => a.succeeded).length} succeeded`);

  title('Bounded counter: a compute quota of 8 units');
  const grants = await Promise.all(Array.from({ length: 12 }, () => fabrica.storage.add('quota', 'acme:cpu', 1, { max: 8 })));
  console.log(`12 concurrent reservations -> ${grants.filter((g) => g.applied).length} granted, usage ${grants.at(-1)!.value}`);
  await fabrica.storage.add('quota', 'acme:cpu', -3, { min: 0 });
  console.log(`released 3 -> usage ${(await fabrica.storage.get('quota', 'acme:cpu'))!.value}`);

  title('TTL (with an injected clock)');
  await fabrica.storage.put('sessions', 's1', { user: 'ada' }, { ttlMs: 15 * 60_000 });
  console.log(`session alive: ${(await fabrica.storage.get('sessions', 's1')) !== null}`);
  clock.advance(15 * 60_000);
  console.log(`15 minutes later: ${(await fabrica.storage.get('sessions', 's1')) !== null}`);

  title('Cursor listing');
  for (let i = 0; i < 25; i++) await fabrica.storage.put('tasks', `acme/${String(i).padStart(3, '0')}`, { n: i });
  let cursor: string | undefined;
  let pages = 0;
  let seen = 0;
  do {
    const page = await fabrica.storage.list('tasks', { prefix: 'acme/', limit: 10, ...(cursor ? { cursor } : {}) });
    pages += 1;
    seen += page.items.length;
    cursor = page.cursor ?? undefined;
  } while (cursor);
  console.log(`listed ${seen} tasks in ${pages} pages`);

  title('Cache with TTL');
  await fabrica.cache.set('GET /api/tasks?page=1', new TextEncoder().encode('{"items":[]}'), { ttlMs: 30_000 });
  console.log(`cached bytes: ${(await fabrica.cache.get('GET /api/tasks?page=1'))!.byteLength}`);
  console.log(`invalidated by prefix: ${await fabrica.cache.deleteByPrefix('GET /api/tasks')}`);

  title('Events across instances');
  const received = peer.events.once('task:completed');
  fabrica.events.emit('task:completed', { taskId: fabrica.ids.next(), tenantId: 'acme', type: 'render', state: 'completed', at: clock.now() });
  const event = await received;
  console.log(`peer received task:completed for ${event.taskId} (id minted at ${new Date(uuidv7Timestamp(event.taskId)!).toISOString()})`);

  title('Validation with stable error codes');
  try {
    await fabrica.storage.put('bad namespace!', 'k', 1);
  } catch (err) {
    if (isFabricaError(err)) console.log(`${err.code}: ${err.message}`);
  }

  await Promise.all([fabrica.close(), peer.close()]);
}

async function main(): Promise<void> {
  await demoFoundation();
  await demoSecurity();
  await demoAccess();
  await demoIdentity();
  await demoTasks();
  await demoResources();
  console.log('\ndone.');
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
