// Scenario 5 of the controller: a normal rollout with the hooks and the controller both running. Each new pod's
// postStart runs the built binary's `register` (so the controller leaves it to its hook on watch events), and each old
// pod's preStop runs `deregister` before the pod is deleted. Every record is written by a hook; the controller's full
// passes (after the pods turned ready, after the deletions) find the CMDB in sync and write nothing.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';
import { HOOK_ARGS, runPodHook, turnReady } from '../support/controller/pod-hooks.ts';

let scene: Scene;
before(async () => {
  scene = await startScene();
});
after(() => scene.close());

const hooked = (name: string, ready: boolean) => ({
  name,
  namespace: 'shop',
  labels: { app: 'web', ...SELECTED },
  annotations: { 'cmdb-hook.io/app': 'web' },
  containers: ['app', 'sidecar'],
  ready,
  lifecycle: { postStart: ['/cmdb-hook/cmdb-hook', ...HOOK_ARGS('register', 'app')], preStop: ['/cmdb-hook/cmdb-hook', ...HOOK_ARGS('deregister', 'app')] },
});

const passes = (logs: Record<string, unknown>[]) => logs.filter((line) => typeof line.msg === 'string' && line.msg.startsWith('full pass:'));
const controllerWrites = (metrics: string) => [...metrics.matchAll(/^cmdb_hook_controller_writes_total\{[^}]*\} (\d+)/gm)].reduce((sum, match) => sum + Number(match[1]), 0);

test('a rollout with hooks: every record written by a hook, the controller writes nothing', async () => {
  const old = ['web-old-a', 'web-old-b'].map((name) => scene.api.addPod(hooked(name, true)));
  for (const pod of old) for (const run of await runPodHook(pod, 'register', scene.cmdb.url)) assert.equal(run.code, 0, run.stderr);
  assert.equal(scene.cmdb.records.size, 4, 'the old pods registered by their hooks, two containers each');

  const controller = scene.start(['--orphan-grace', '1s', '--leader-elect=false']);
  assert.ok(await untilReady(controller), controller.stderr());
  assert.ok(await waitFor(() => passes(controller.logs()).length >= 1, 10_000), controller.stderr());
  assert.equal(passes(controller.logs())[0]?.actions, 0, 'the start pass finds the hooks\' records in sync');

  // The new ReplicaSet's pods: created not ready, their hooks register, then the kubelet reports them ready.
  const fresh = ['web-new-a', 'web-new-b'].map((name) => scene.api.addPod(hooked(name, false)));
  for (const pod of fresh) for (const run of await runPodHook(pod, 'register', scene.cmdb.url)) assert.equal(run.code, 0, run.stderr);
  for (const pod of fresh) turnReady(scene.api, 'shop', pod.metadata.name ?? '');
  assert.equal(scene.cmdb.records.size, 8);

  // The old pods: preStop deregisters, then the pod is deleted.
  for (const pod of old) for (const run of await runPodHook(pod, 'deregister', scene.cmdb.url)) assert.equal(run.code, 0, run.stderr);
  for (const pod of old) scene.api.deletePod('shop', pod.metadata.name ?? '', 0);
  assert.equal(scene.cmdb.records.size, 4);
  const hookWrites = scene.cmdb.writes().length;
  assert.equal(hookWrites, 12, '8 PUTs and 4 DELETEs, all by hooks');

  // The pass after the deletions (orphan grace 1 s) and the one after the hooks' grace (30 s after the pods turned
  // ready) both list the CMDB and find nothing to do.
  const synced = (line: Record<string, unknown>) => (line.reasons as string[]).includes('a pod that registers itself changed');
  assert.ok(await waitFor(() => passes(controller.logs()).some(synced), 40_000), controller.stderr());
  const later = passes(controller.logs()).slice(1);
  assert.ok(later.some((line) => (line.reasons as string[]).includes('a pod was deleted')), JSON.stringify(later));
  for (const line of later) assert.equal(line.actions, 0, JSON.stringify(line));
  assert.equal(scene.cmdb.writes().length, hookWrites, 'zero controller writes');
  const metrics = (await controller.get('/metrics')).body;
  assert.equal(controllerWrites(metrics), 0);
  assert.match(metrics, /^cmdb_hook_controller_pods 2$/m, 'the controller sees the two new pods');
  assert.deepEqual([...scene.cmdb.records.values()].map((record) => `${record.pod.name} ${record.state}`).sort(), ['web-new-a ready', 'web-new-a ready', 'web-new-b ready', 'web-new-b ready']);
  assert.equal(scene.api.events('shop').filter((event) => (event as { reason?: string }).reason?.startsWith('CMDB')).length, 0, 'no Event: the controller did nothing');
  assert.equal(await controller.stop(), 0);
});
