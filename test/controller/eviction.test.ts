// Scenario 3 of the controller: an evicted pod. The kubelet ends its containers with no preStop the hook could ride
// on and leaves the object, phase Failed, reason Evicted; its IP goes back to the pool. The controller sees the pod
// finished on the watch and retires its record after --orphan-grace, counted from then: not at the next --resync,
// which is ten minutes away here, as by default.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';
import { eventsOf, liveUids, uidOf, untilMetric } from '../support/controller/observe.ts';
import type { KubeObject } from '../support/kube-api/resources.ts';

const GRACE_MS = 1500;

let scene: Scene;
before(async () => {
  scene = await startScene();
});
after(() => scene.close());

/** What the kubelet's eviction manager leaves: phase Failed, reason Evicted, containers terminated and not ready. */
function evict(pod: KubeObject): void {
  const status = pod.status as { phase: string; reason?: string; message?: string; conditions: { type: string; status: string }[]; containerStatuses: Record<string, unknown>[] };
  status.phase = 'Failed';
  status.reason = 'Evicted';
  status.message = 'The node was low on resource: memory. Threshold quantity: 100Mi, available: 91Mi.';
  for (const condition of status.conditions) if (condition.type === 'Ready' || condition.type === 'ContainersReady') condition.status = 'False';
  for (const container of status.containerStatuses) {
    container.ready = false;
    container.started = false;
    container.state = { terminated: { exitCode: 137, reason: 'Error', startedAt: new Date(Date.now() - 60_000).toISOString(), finishedAt: new Date().toISOString() } };
  }
}

test('an evicted pod (phase Failed, object kept): its record is retired after the grace, the others are left alone', async () => {
  for (const name of ['web-a', 'web-b', 'web-c']) scene.api.addPod({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });
  const controller = scene.start(['--orphan-grace', `${GRACE_MS}ms`]);
  assert.ok(await untilReady(controller), controller.stderr());
  assert.ok(await waitFor(() => scene.cmdb.records.size === 3, 10_000), 'the three pods are registered');
  assert.equal(scene.cmdb.writes().length, 3);

  const evicted = uidOf(scene.api, 'shop', 'web-b');
  scene.api.modifyPod('shop', 'web-b', evict);
  const evictedAt = performance.now();
  assert.ok(await waitFor(() => !liveUids(scene.cmdb).has(evicted), 15_000), `the evicted pod's record is retired well before the next --resync\n${controller.stderr()}`);
  assert.ok(performance.now() - evictedAt >= GRACE_MS, 'not before the grace');

  assert.equal((scene.api.pod('shop', 'web-b')?.status as { phase?: string } | undefined)?.phase, 'Failed', 'the pod object is still there');
  assert.deepEqual(new Set([...scene.cmdb.records.values()].map((record) => record.pod.name)), new Set(['web-a', 'web-c']));
  const writes = scene.cmdb.writes();
  assert.equal(writes.length, 4, 'one DELETE besides the three creates');
  assert.equal(writes.at(-1)?.method, 'DELETE');
  assert.ok(writes.at(-1)?.path.includes(evicted));
  // The Event, the metric and the log line follow the CMDB's answer: waited for, not raced.
  assert.ok(await waitFor(() => eventsOf(scene.api, 'shop', 'CMDBRetired', evicted).length === 1, 5000), 'kubectl describe pod web-b shows the retire');
  assert.equal(eventsOf(scene.api, 'shop', 'CMDBRetired').length, 1);
  assert.ok(await untilMetric(controller, 'controller_writes_total', '{action="retire",outcome="ok"}', (value) => value === 1, 5000));
  assert.ok(await waitFor(() => controller.logs().some((line) => String(line.msg).includes(`record ${evicted}_app deleted`)), 5000), 'the retire is logged');

  // A finished pod is never registered again, whatever its containers say later.
  scene.api.modifyPod('shop', 'web-b', (pod) => (pod.metadata.labels = { ...pod.metadata.labels, touched: 'yes' }));
  assert.equal(await waitFor(() => scene.cmdb.writes().length > 4, 1000), false, 'no write for a finished pod');
  assert.equal(await controller.stop(), 0);
});
