// Scenario 11 of the controller: StatefulSet `web-0` replaced. Its node died, the pod was force-deleted with no
// preStop, and the StatefulSet controller made `web-0` again: the same name, a new uid, often the same node name in
// the records' eyes. The record ids carry the uid, so the two are two records: the old one is retired after
// --orphan-grace (its pod, looked up by name, is another uid: gone), the new one is created and kept.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, test } from 'node:test';
import { SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';
import { eventsOf, liveUids, readMetric, uidOf, untilMetric } from '../support/controller/observe.ts';
import { makePod } from '../support/kube-api/pods.ts';
import type { KubeObject } from '../support/kube-api/resources.ts';

const GRACE_MS = 1500;

let scene: Scene;
before(async () => {
  scene = await startScene();
});
after(() => scene.close());

const STATEFULSET_UID = randomUUID();

/** A StatefulSet's pod: no ReplicaSet, the StatefulSet as owner, its pod-name and pod-index labels. */
function statefulPod(name: string, uid: string, ready: boolean): KubeObject {
  const labels = { app: 'web', 'apps.kubernetes.io/pod-index': name.split('-').at(-1) ?? '0', 'statefulset.kubernetes.io/pod-name': name, ...SELECTED };
  const pod = makePod({ name, namespace: 'shop', uid, labels, replicaSet: null, ready });
  pod.metadata.ownerReferences = [{ apiVersion: 'apps/v1', kind: 'StatefulSet', name: 'web', uid: STATEFULSET_UID, controller: true, blockOwnerDeletion: true }];
  return pod;
}

test('StatefulSet web-0 replaced (same name, new uid): the old record retired after the grace, the new one created and kept', async () => {
  scene.api.addPod(statefulPod('web-0', randomUUID(), true));
  scene.api.addPod(statefulPod('web-1', randomUUID(), true));
  const controller = scene.start(['--orphan-grace', `${GRACE_MS}ms`, '--resync', '2s']);
  assert.ok(await untilReady(controller), controller.stderr());
  assert.ok(await waitFor(() => scene.cmdb.records.size === 2, 10_000), 'web-0 and web-1 are registered');
  const oldUid = uidOf(scene.api, 'shop', 'web-0');

  // The node is lost: web-0 is force-deleted (no preStop), and the StatefulSet controller makes it again at once.
  scene.api.deletePod('shop', 'web-0', 0);
  const replacedAt = performance.now();
  const newUid = randomUUID();
  scene.api.addPod(statefulPod('web-0', newUid, false));
  assert.equal(uidOf(scene.api, 'shop', 'web-0'), newUid);
  // Its app turns ready a moment later: the controller registers it (no hook ran).
  scene.api.modifyPod('shop', 'web-0', (pod) => {
    const status = pod.status as { conditions: { type: string; status: string }[]; containerStatuses: { ready: boolean }[] };
    for (const condition of status.conditions) if (condition.type === 'Ready' || condition.type === 'ContainersReady') condition.status = 'True';
    for (const container of status.containerStatuses) container.ready = true;
  });
  assert.ok(await waitFor(() => liveUids(scene.cmdb).has(newUid), 10_000), 'the new web-0 is registered');
  assert.ok(liveUids(scene.cmdb).has(oldUid), 'the old record is not retired at once');

  assert.ok(await waitFor(() => !liveUids(scene.cmdb).has(oldUid), 10_000), `the old web-0's record is retired\n${controller.stderr()}`);
  assert.ok(performance.now() - replacedAt >= GRACE_MS, 'not before the grace');
  const byUid = [...scene.cmdb.records.values()].filter((record) => record.pod.name === 'web-0').map((record) => record.pod.uid);
  assert.deepEqual(byUid, [newUid], 'only the new web-0 has a record');

  // Kept: later passes (--resync 2s) leave it, and nothing else is written.
  const passes = (await readMetric(controller, 'controller_passes_total', '{result="ok"}')) ?? 0;
  assert.ok(await untilMetric(controller, 'controller_passes_total', '{result="ok"}', (value) => (value ?? 0) >= passes + 2, 10_000), 'two more passes ran');
  assert.ok(liveUids(scene.cmdb).has(newUid), 'the new web-0 is kept');
  assert.equal(scene.cmdb.records.size, 2);
  const writes = scene.cmdb.writes().map((request) => `${request.method} ${request.path.split('/').at(-1) ?? ''}`);
  assert.deepEqual(writes.filter((write) => write.includes(oldUid)), [`PUT ${oldUid}_app`, `DELETE ${oldUid}_app`]);
  assert.deepEqual(writes.filter((write) => write.includes(newUid)), [`PUT ${newUid}_app`]);
  assert.equal(writes.length, 4, 'web-1 written once, nothing more');
  assert.equal(eventsOf(scene.api, 'shop', 'CMDBRetired', oldUid).length, 1, 'the retire is told on the old pod (its uid)');
  assert.equal(eventsOf(scene.api, 'shop', 'CMDBRetired', newUid).length, 0);
  assert.equal(eventsOf(scene.api, 'shop', 'CMDBRegistered', newUid).length, 1);
  assert.equal(await readMetric(controller, 'controller_retires_skipped_total'), 0, 'the lookup by name saw another uid: not "still running"');
  assert.equal(await controller.stop(), 0);
});
