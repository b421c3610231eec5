// Scenario 7 of the controller: a restart with everything in sync costs zero writes. The first controller converges
// the CMDB and is stopped as a Deployment's rollout stops it (SIGTERM, exit 0); the next one lists the pods and the
// records, finds nothing to do, and says so: only GET listings reach the CMDB, no Event is added. The pods cover what
// the comparison must get right: two containers, the pod's own app and field annotations, the --field flag, a
// dual-stack pod, and a pod whose readiness flapped after it was registered (its record stays, unchanged).
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SELECTED, startScene, untilReady, waitFor, type ControllerProcess, type Scene } from '../support/controller/controller-run.ts';
import { listings, readMetric, untilMetric } from '../support/controller/observe.ts';

const ARGS = ['--orphan-grace', '1s', '--resync', '1s', '--field', 'env=prod'];

let scene: Scene;
before(async () => {
  scene = await startScene();
});
after(() => scene.close());

/** Waits until the controller leads and has run `passes` full passes since it started, each planning nothing. */
async function untilQuiet(controller: ControllerProcess, passes: number): Promise<void> {
  assert.ok(await untilReady(controller), controller.stderr());
  assert.ok(await untilMetric(controller, 'controller_leader', '', (value) => value === 1, 20_000), `it leads\n${controller.stderr()}`);
  assert.ok(await untilMetric(controller, 'controller_passes_total', '{result="ok"}', (value) => (value ?? 0) >= passes, 15_000), 'its passes ran');
  assert.ok(await waitFor(() => fullPasses(controller).at(-1)?.actions === 0, 10_000), 'the last pass planned nothing');
}

function fullPasses(controller: ControllerProcess): { actions: number; reasons: string[] }[] {
  return controller.logs().filter((line) => String(line.msg).startsWith('full pass:')) as unknown as { actions: number; reasons: string[] }[];
}

test('a restart with everything in sync: the second controller writes nothing, only lists', async () => {
  for (const name of ['web-a', 'web-b', 'web-c', 'web-d']) scene.api.addPod({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });
  scene.api.addPod({ name: 'cart-0', namespace: 'shop', labels: { app: 'cart', tier: 'backend', ...SELECTED }, containers: ['app', 'envoy'], annotations: { 'cmdb-hook.io/containers': 'app,envoy', 'cmdb-hook.io/app': 'checkout', 'cmdb-hook.io/field.team': 'payments' } });
  scene.api.addPod({ name: 'dual-0', namespace: 'default', labels: SELECTED, podIPs: ['10.244.7.9', 'fd00:10:244::7:9'] });
  scene.api.addPod({ name: 'flappy', namespace: 'default', labels: SELECTED });
  scene.api.addPod({ name: 'starting', namespace: 'default', labels: SELECTED, ready: false });
  scene.api.addPod({ name: 'unselected', namespace: 'shop', labels: { app: 'other' } });

  const first = scene.start(ARGS);
  assert.ok(await untilReady(first), first.stderr());
  assert.ok(await waitFor(() => scene.cmdb.records.size === 8, 10_000), 'seven ready pods, one with two containers');
  // flappy's app stops answering its probe after it was registered: its record stays, and is not rewritten.
  scene.api.modifyPod('default', 'flappy', (pod) => {
    for (const status of (pod.status as { containerStatuses: { ready: boolean }[] }).containerStatuses) status.ready = false;
  });
  await untilQuiet(first, 3);
  const record = [...scene.cmdb.records.values()].find((each) => each.pod.name === 'cart-0' && each.container === 'envoy');
  assert.equal(record?.app, 'checkout');
  assert.deepEqual(record?.fields, { env: 'prod', team: 'payments' });
  assert.equal(await first.stop(), 0, 'SIGTERM ends it with 0');
  assert.match(first.stderr(), /stopped after \d+ full pass/);

  const writes = scene.cmdb.writes().length;
  assert.equal(writes, 8, `one write per record, the flap cost none: ${scene.cmdb.writes().map((each) => `${each.method} ${each.path}`).join(', ')}\n${first.stderr()}`);
  const cmdbRequests = scene.cmdb.requests.length;
  const kubeRequests = scene.api.requests.length;
  const events = scene.api.events().length;
  const snapshot = JSON.stringify([...scene.cmdb.records.values()]);

  const second = scene.start(ARGS);
  await untilQuiet(second, 3);
  assert.ok(fullPasses(second).some((pass) => pass.reasons.includes('started leading')), 'a pass ran while it led');
  assert.ok(fullPasses(second).every((pass) => pass.actions === 0), 'no pass of the second planned anything');
  const seen = scene.cmdb.requests.slice(cmdbRequests);
  assert.ok(seen.length >= 3, 'it listed the records');
  assert.deepEqual(seen.filter((request) => request.method !== 'GET'), [], 'zero writes by the second controller');
  assert.ok(seen.every((request) => listings(scene.cmdb).includes(request)), 'only GET listings of the cluster\'s records');
  assert.equal(scene.cmdb.writes().length, writes);
  assert.equal(JSON.stringify([...scene.cmdb.records.values()]), snapshot, 'the records are untouched');
  assert.equal(scene.api.events().length, events, 'no Event: nothing happened');
  const kubeWrites = scene.api.requests.slice(kubeRequests).filter((request) => request.method !== 'GET' && !request.path.includes('/leases'));
  assert.deepEqual(kubeWrites.map((request) => `${request.method} ${request.path}`), [], 'towards Kubernetes only the Lease is written');
  assert.equal(await readMetric(second, 'controller_writes_total', '{action="create",outcome="ok"}') ?? 0, 0);
  assert.equal(await readMetric(second, 'controller_records'), 8);
  assert.equal(await second.stop(), 0);
});
