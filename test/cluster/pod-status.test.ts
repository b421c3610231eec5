// A pod condition set through pods/status with a strategic merge patch, against the API stand-in (which merges
// conditions by type and checks a patch's metadata.uid as kube-apiserver does).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KubeApiError } from '../../src/cluster/kube/kube-api-error.ts';
import type { Pod } from '../../src/cluster/kube/pod-cache.ts';
import { setPodCondition } from '../../src/cluster/kube/pod-status.ts';
import { makeCertificates } from '../support/certificates.ts';
import type { KubeObject } from '../support/kube-api/resources.ts';
import { standInWithClient } from '../support/kube-client.ts';

const certificates = makeCertificates();
const GATE = 'example.com/cmdb-registered';

type Condition = { type: string; status: string; reason?: string; message?: string; lastProbeTime?: null; lastTransitionTime?: string };
const conditionsOf = (pod: KubeObject | undefined) => ((pod?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []);
const asPod = (object: unknown) => object as Pod;

test('the condition is merged by type: the kubelet\'s conditions stay; lastTransitionTime moves only with the status', async (t) => {
  const { api, client } = await standInWithClient(t, certificates);
  const stored = api.addPod({ name: 'web-0', namespace: 'shop', readinessGates: [GATE], conditions: [{ type: GATE, status: 'False', reason: 'Pending' }] });
  const others = conditionsOf(stored).filter((condition) => condition.type !== GATE);
  const before = conditionsOf(stored).find((condition) => condition.type === GATE);
  assert.ok(others.length >= 4 && before);

  const first = await setPodCondition(client, asPod(stored), { type: GATE, status: 'True', reason: 'Registered', message: 'record 1234' });
  assert.equal(first.outcome, 'patched');
  const request = api.requests.at(-1);
  assert.deepEqual([request?.method, request?.path, request?.contentType], ['PATCH', '/api/v1/namespaces/shop/pods/web-0/status', 'application/strategic-merge-patch+json']);
  assert.equal((JSON.parse(request?.body ?? '{}') as { metadata: { uid: string } }).metadata.uid, stored.metadata.uid, 'the uid goes along as a precondition');
  const after = api.pod('shop', 'web-0');
  assert.deepEqual(conditionsOf(after).filter((condition) => condition.type !== GATE), others, 'every other condition untouched');
  const gate = conditionsOf(after).find((condition) => condition.type === GATE);
  // lastProbeTime is the stored condition's: the element merges field by field too.
  assert.deepEqual({ ...gate, lastTransitionTime: undefined }, { type: GATE, status: 'True', reason: 'Registered', message: 'record 1234', lastProbeTime: null, lastTransitionTime: undefined });
  assert.notEqual(gate?.lastTransitionTime, before.lastTransitionTime, 'False to True is a transition');

  const sent = api.requests.length;
  assert.deepEqual(await setPodCondition(client, asPod(after), { type: GATE, status: 'True', reason: 'Registered', message: 'record 1234' }), { outcome: 'unchanged' });
  assert.equal(api.requests.length, sent, 'an identical condition is not written again');
  const reworded = await setPodCondition(client, asPod(after), { type: GATE, status: 'True', reason: 'Registered', message: 'record 1234 (updated)' });
  assert.equal(reworded.outcome, 'patched');
  const last = conditionsOf(api.pod('shop', 'web-0')).find((condition) => condition.type === GATE);
  assert.deepEqual([last?.message, last?.lastTransitionTime], ['record 1234 (updated)', gate?.lastTransitionTime], 'same status: the transition time stays');
});

test('a pod made again under the same name (new UID) is refused and reported as replaced, and so is a deleted one', async (t) => {
  const { api, client } = await standInWithClient(t, certificates);
  const old = api.addPod({ name: 'web-0', namespace: 'shop', readinessGates: [GATE] });
  api.deletePod('shop', 'web-0', 0);
  const successor = api.addPod({ name: 'web-0', namespace: 'shop', readinessGates: [GATE] });
  const replaced = await setPodCondition(client, asPod(old), { type: GATE, status: 'True', reason: 'Registered' });
  assert.equal(replaced.outcome, 'replaced');
  assert.equal(replaced.outcome === 'replaced' && replaced.status, 422);
  assert.match(replaced.outcome === 'replaced' ? replaced.message : '', /^pod shop\/web-0 is no longer uid .*: it was deleted and made again$/);
  assert.equal(conditionsOf(api.pod('shop', 'web-0')).find((condition) => condition.type === GATE), undefined, 'the successor is not marked');
  assert.equal(api.pod('shop', 'web-0')?.metadata.uid, successor.metadata.uid);

  api.deletePod('shop', 'web-0', 0);
  const gone = await setPodCondition(client, asPod(successor), { type: GATE, status: 'True' });
  assert.deepEqual(gone.outcome === 'replaced' && [gone.status, gone.message], [404, `pod shop/web-0 (uid ${successor.metadata.uid ?? ''}) is gone`]);

  const other = api.addPod({ name: 'db-0', namespace: 'shop' });
  api.injectFault({ status: 500 });
  await assert.rejects(setPodCondition(client, asPod(other), { type: GATE, status: 'True' }), (error: unknown) => error instanceof KubeApiError && error.transient && error.status === 500);
});
