// Scenario 10 of the controller, second half: a kubeconfig for the wrong cluster. The CMDB is full of this cluster's
// records, written by a controller that saw its pods; then the kubeconfig is swapped for one of another cluster (a
// copied file, a wrong context), whose pods are others. Every record looks orphaned, which is more than half: the
// half rule retires nothing, logs an error and sets cmdb_hook_controller_retire_blocked, pass after pass.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';
import { eventsOf, liveUids, readMetric, untilMetric } from '../support/controller/observe.ts';
import { startKubeApi, type KubeApi } from '../support/kube-api/kube-api-stand-in.ts';

const ARGS = ['--orphan-grace', '1s', '--resync', '1s'];

let scene: Scene;
let other: KubeApi;
before(async () => {
  scene = await startScene();
  other = await startKubeApi({ namespaces: ['default', 'shop', 'cmdb-hook'], certificates: scene.api.certificates });
});
after(async () => {
  await scene.close();
  await other.close();
});

test('a kubeconfig for the wrong cluster, pointed at a CMDB full of this cluster\'s records: no mass retire, an error logged', async () => {
  for (const name of ['web-a', 'web-b', 'web-c', 'web-d', 'web-e', 'web-f']) scene.api.addPod({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });
  const first = scene.start(ARGS);
  assert.ok(await untilReady(first), first.stderr());
  assert.ok(await waitFor(() => scene.cmdb.records.size === 6, 10_000), 'this cluster\'s six pods registered');
  assert.equal(await first.stop(), 0);
  const ours = liveUids(scene.cmdb);

  // The other cluster has pods of its own, in the same namespace, with the same labels.
  for (const name of ['web-x', 'web-y']) other.addPod({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });
  other.writeKubeconfig(scene.dir, { namespace: 'cmdb-hook' });
  const wrong = scene.start(ARGS);
  assert.ok(await untilReady(wrong), wrong.stderr());
  assert.ok(await untilMetric(wrong, 'controller_retire_blocked', '', (value) => value === 1, 10_000), `retire blocked\n${wrong.stderr()}`);
  const passes = (await readMetric(wrong, 'controller_passes_total', '{result="ok"}')) ?? 0;
  assert.ok(await untilMetric(wrong, 'controller_passes_total', '{result="ok"}', (value) => (value ?? 0) >= passes + 3, 10_000), 'three more passes');

  for (const uid of ours) assert.ok(liveUids(scene.cmdb).has(uid), 'every record of this cluster is kept');
  const deletes = scene.cmdb.writes().filter((request) => request.method === 'DELETE');
  assert.deepEqual(deletes, [], 'nothing retired');
  assert.equal(await readMetric(wrong, 'controller_retire_blocked'), 1, 'still blocked');
  assert.equal(await readMetric(wrong, 'controller_writes_total', '{action="retire",outcome="ok"}') ?? 0, 0);
  const errors = wrong.logs().filter((line) => line.level === 50 && String(line.msg).startsWith('retire blocked'));
  assert.ok(errors.length >= 1, 'the error is logged');
  // What it sees, it writes: the other cluster's two pods (the operator's cue, besides the error, that it is lost).
  assert.match(String(errors[0]?.msg), /retire blocked: 6 of (6|8) owned records/);
  assert.equal(scene.cmdb.records.size, 8);
  assert.equal(scene.cmdb.writes().length, 8, 'six writes by the right controller, two by the wrong one');
  assert.equal(eventsOf(scene.api, 'shop', 'CMDBRegistered').length, 6, 'no Event in this cluster from the wrong controller');
  assert.equal(eventsOf(other, 'shop', 'CMDBRegistered').length, 2);
  assert.equal(eventsOf(other, 'shop', 'CMDBRetired').length, 0);
  assert.equal(await wrong.stop(), 0);
});
