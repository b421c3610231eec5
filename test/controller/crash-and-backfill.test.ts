// Scenarios 1 and 4 of the controller: what hooks never see. A pod deleted with no preStop (a crash, a kill) leaves
// its record, which the controller retires after --orphan-grace; a Ready pod whose postStart never ran gets its
// record, once.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';

let scene: Scene;
before(async () => {
  scene = await startScene();
});
after(() => scene.close());

test('a crash with no preStop: the record is retired after the grace; a pod whose postStart never ran is registered once', async () => {
  for (const name of ['web-a', 'web-b', 'web-c']) scene.api.addPod({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });
  scene.api.addPod({ name: 'not-selected', namespace: 'shop', labels: { app: 'other' } });
  const controller = scene.start(['--orphan-grace', '1s']);
  assert.ok(await untilReady(controller), controller.stderr());
  assert.ok(await waitFor(() => scene.cmdb.records.size === 3, 10_000), 'the three selected pods are registered');
  const writesAfterBackfill = scene.cmdb.writes().length;
  assert.equal(writesAfterBackfill, 3, 'one write per record');

  const gone = scene.api.pod('shop', 'web-b');
  scene.api.deletePod('shop', 'web-b', 0);
  const deletedAt = performance.now();
  const uid = (gone?.metadata as { uid: string }).uid;
  assert.ok(await waitFor(() => ![...scene.cmdb.records.values()].some((record) => record.pod.uid === uid), 10_000), 'the crashed pod\'s record is removed');
  assert.ok(performance.now() - deletedAt >= 1000, 'not before the grace');
  assert.equal(scene.cmdb.records.size, 2);
  assert.equal(scene.cmdb.writes().length, writesAfterBackfill + 1, 'one DELETE, nothing else');
  // Events are sent after the write, on their own queue.
  const count = (reason: string) => scene.api.events('shop').filter((event) => (event as { reason?: string }).reason === reason).length;
  assert.ok(await waitFor(() => count('CMDBRetired') === 1, 5_000), 'a CMDBRetired event on the pod');
  assert.equal(count('CMDBRegistered'), 3);
  assert.equal(await controller.stop(), 0);
});
