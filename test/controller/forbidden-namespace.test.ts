// Scenario 10 of the controller, first half: a namespace whose pods the controller may not list (403: RBAC narrowed,
// a RoleBinding missing). The CMDB holds records there, written by the hooks: one whose pod still runs, one whose pod
// is long gone. The controller says so loudly (an error in the log, cmdb_hook_controller_namespaces_not_listable 1)
// and retires none of them, pass after pass: their pods' absence says nothing. The other namespace works as usual.
// Without --namespace the one list of every namespace is refused as a whole (RBAC has no "all but one"): the
// controller sees no pod at all, and must take that for blindness, not for an empty cluster.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { identityFromApiPod } from '../../src/pod/from-api-pod.ts';
import { buildRecord } from '../../src/pod/record.ts';
import { CLUSTER, SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';
import { eventsOf, liveUids, readMetric, uidOf, untilMetric } from '../support/controller/observe.ts';
import { makePod } from '../support/kube-api/pods.ts';
import type { KubeObject } from '../support/kube-api/resources.ts';
import type { StoredRecord } from '../support/sandbox-cmdb.ts';

let scene: Scene;
before(async () => {
  scene = await startScene({ api: { namespaces: ['default', 'shop', 'vault', 'cmdb-hook'], forbiddenNamespaces: ['vault'] } });
});
after(() => scene.close());

/** The record the pod's postStart hook wrote an hour ago (the hook's own builder). */
function hookRecord(pod: KubeObject): StoredRecord {
  const record = buildRecord(identityFromApiPod(pod as never), { cluster: CLUSTER, container: 'app', app: undefined, fields: {} }, 'ready', new Date(Date.now() - 3_600_000));
  return record as unknown as StoredRecord;
}

test('a namespace that may not be listed (403): a loud error, the metric, none of its records retired; the other namespace works', async () => {
  for (const name of ['web-a', 'web-b']) scene.api.addPod({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });
  const running = scene.api.addPod({ name: 'vault-0', namespace: 'vault', labels: { app: 'vault', ...SELECTED } });
  const gone = makePod({ name: 'vault-1', namespace: 'vault', labels: { app: 'vault', ...SELECTED } });
  for (const record of [hookRecord(running), hookRecord(gone)]) scene.cmdb.records.set(record.id, record);
  const vaultUids = new Set([running.metadata.uid ?? '', gone.metadata.uid ?? '']);

  const controller = scene.start(['--namespace', 'shop', '--namespace', 'vault', '--orphan-grace', '1s', '--resync', '1s']);
  assert.ok(await untilReady(controller), `ready once every namespace has a verdict\n${controller.stderr()}`);
  assert.ok(await untilMetric(controller, 'controller_namespaces_not_listable', '', (value) => value === 1, 10_000), 'the metric says one namespace');
  assert.ok((await readMetric(controller, 'controller_watch_problems_total', '{action="list",kind="forbidden"}') ?? 0) >= 1);
  const loud = controller.logs().filter((line) => line.level === 50 && String(line.msg).includes('namespace vault (403)'));
  assert.ok(loud.length >= 1, `the 403 is an error in the log, naming the namespace\n${controller.stderr()}`);
  assert.match(String(loud[0]?.msg), /never retired/);

  // shop works normally: registered, a crashed pod's record retired after the grace, a new pod registered.
  assert.ok(await waitFor(() => scene.cmdb.records.size === 4, 10_000), 'web-a and web-b registered besides the two vault records');
  const crashed = uidOf(scene.api, 'shop', 'web-b');
  scene.api.deletePod('shop', 'web-b', 0);
  scene.api.addPod({ name: 'web-c', namespace: 'shop', labels: { app: 'web', ...SELECTED } });
  const added = uidOf(scene.api, 'shop', 'web-c');
  assert.ok(await waitFor(() => !liveUids(scene.cmdb).has(crashed) && liveUids(scene.cmdb).has(added), 10_000), `shop converges\n${controller.stderr()}`);

  // Pass after pass, the vault records stay: no request touches them, no Event there.
  const passes = (await readMetric(controller, 'controller_passes_total', '{result="ok"}')) ?? 0;
  assert.ok(await untilMetric(controller, 'controller_passes_total', '{result="ok"}', (value) => (value ?? 0) >= passes + 3, 10_000), 'three more passes');
  for (const uid of vaultUids) assert.ok(liveUids(scene.cmdb).has(uid), 'a vault record is kept');
  const touched = scene.cmdb.writes().filter((request) => [...vaultUids].some((uid) => request.path.includes(uid)));
  assert.deepEqual(touched, [], 'no write to a record of the namespace that cannot be listed');
  assert.equal(scene.cmdb.writes().length, 4, 'three creates and one DELETE, all in shop');
  assert.equal(eventsOf(scene.api, 'shop', 'CMDBRetired', crashed).length, 1);
  assert.equal(await readMetric(controller, 'controller_retire_blocked'), 0, 'not the half rule: the namespace is left out');
  assert.equal(await readMetric(controller, 'controller_namespaces_not_listable'), 1);
  assert.equal(await controller.stop(), 0);
});

test('every namespace at once while one is forbidden (403 for the cluster-wide list): no pod seen, nothing written or retired', async () => {
  const records = JSON.stringify([...scene.cmdb.records.values()]);
  const writes = scene.cmdb.writes().length;
  scene.api.addPod({ name: 'web-d', namespace: 'shop', labels: { app: 'web', ...SELECTED } });
  const controller = scene.start(['--orphan-grace', '1s', '--resync', '1s']);
  assert.ok(await untilReady(controller), controller.stderr());
  assert.ok(await untilMetric(controller, 'controller_namespaces_not_listable', '', (value) => value === 1, 10_000));
  assert.ok(controller.logs().some((line) => line.level === 50 && String(line.msg).includes('every namespace (403)')), `the 403 is an error in the log\n${controller.stderr()}`);
  assert.ok(await untilMetric(controller, 'controller_passes_total', '{result="ok"}', (value) => (value ?? 0) >= 3, 10_000), 'three passes');
  assert.equal(await readMetric(controller, 'controller_pods'), 0, 'no pod seen');
  assert.equal(scene.cmdb.writes().length, writes, 'nothing written: not web-d, and no record retired though no pod is seen');
  assert.equal(JSON.stringify([...scene.cmdb.records.values()]), records);
  assert.equal(await readMetric(controller, 'controller_retire_blocked'), 0, 'not even counted: the list never happened');
  assert.equal(await controller.stop(), 0);
});
