/** Demo section: the spec's AccessControl.checkPermission — resource-level RBAC with explanations. */
import { createMemoryPubSub, createMemoryStorage, MemoryPubSubHub, MemoryStorageState } from '../src/adapters/memory/index.js';
import { isFabricaError } from '../src/errors.js';
import { createAccessControl } from '../src/security/index.js';
import { title } from './demo-support.js';

export async function demoAccess(): Promise<void> {
  title('Access control: roles, inheritance, deny rules, tenants');
  const state = new MemoryStorageState();
  const hub = new MemoryPubSubHub();
  const open = () => createAccessControl({ storage: createMemoryStorage({ state }), pubsub: createMemoryPubSub({ hub }), revalidateIntervalMs: 0 });
  const api = await open();
  const worker = await open(); // a second process sharing the policy

  await api.defineRole({ name: 'viewer' }); // a template shared by every tenant
  await api.defineRole({ name: 'editor', inherits: ['viewer'] });
  await api.grant({ role: 'viewer', action: 'read', resource: 'tasks' });
  await api.grant({ role: 'editor', action: 'update', resource: 'projects/42/**' });
  await api.grant({ role: 'viewer', effect: 'deny', action: 'read', resource: 'tasks/payroll' });
  await api.grant({ role: 'editor', action: 'tasks:assign', resource: 'tasks/*', condition: { op: 'owner' } });
  await api.bindUser({ tenant: 'acme', user: 'ada', role: 'editor' });
  // The worker hears about the changes over pub/sub; revalidate() waits until its index has them.
  await worker.revalidate();

  const checks: [string, string][] = [
    ['tenants/acme/tasks/7', 'read'],
    ['tenants/acme/tasks/payroll', 'read'],
    ['tenants/acme/projects/42/tasks/9', 'update'],
    ['tenants/globex/tasks/7', 'read'],
  ];
  for (const [resource, action] of checks) {
    const why = worker.explain('ada', resource, action);
    console.log(`ada ${action.padEnd(6)} ${resource.padEnd(34)} -> ${String(why.allowed).padEnd(5)} (${why.reason}${why.path.length ? ` via ${why.path.join(' -> ')}` : ''})`);
  }
  console.log(`ownership condition: assign own task ${worker.can('ada', { tenant: 'acme', path: 'tasks/1', ownerId: 'ada' }, 'tasks:assign')}, someone else's ${worker.can('ada', { tenant: 'acme', path: 'tasks/2', ownerId: 'bob' }, 'tasks:assign')}`);

  try {
    await api.defineRole({ name: 'viewer', inherits: ['editor'] });
  } catch (err) {
    if (isFabricaError(err)) console.log(`a role cycle is refused when written: ${err.code}`);
  }
  await api.unbindUser({ tenant: 'acme', user: 'ada', role: 'editor' });
  console.log(`after unbinding in one instance, the other answers: ${await worker.checkPermission('ada', 'tenants/acme/tasks/7', 'read')}`);
  await Promise.all([api.close(), worker.close()]);
}
