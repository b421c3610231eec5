// The Kubernetes API stand-in's write contract over HTTPS: patches of pods/status, UID preconditions, optimistic
// concurrency on leases, create, graceful delete, and events (sources in test/support/kube-api/writes.ts and deletion.ts).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { makeCertificates } from '../support/certificates.ts';
import { call, watch, type Connection, type KubeList } from '../support/kube-api/http-client.ts';
import { startKubeApi, type KubeApi, type KubeApiOptions } from '../support/kube-api/kube-api-stand-in.ts';
import type { KubeObject } from '../support/kube-api/resources.ts';
import type { Status } from '../support/kube-api/status.ts';

const certificates = makeCertificates();
const POD = '/api/v1/namespaces/shop/pods/db-0';
const LEASES = '/apis/coordination.k8s.io/v1/namespaces/shop/leases';
const SMP = 'application/strategic-merge-patch+json';
const REGISTERED = 'cmdb-hook.io/registered';

async function standIn(t: TestContext, options: KubeApiOptions = {}): Promise<{ api: KubeApi; conn: Connection }> {
  const api = await startKubeApi({ certificates, terminationDelayMs: null, ...options });
  t.after(() => api.close());
  return { api, conn: { url: api.url, ca: api.ca, token: api.token } };
}

type Condition = { type: string; status: string };
const conditionsOf = (pod: KubeObject) => (pod.status as { conditions: Condition[] }).conditions.map((condition) => `${condition.type}=${condition.status}`);

test('a strategic merge patch of pods/status merges conditions by type, leaves the spec alone, and a no-op writes nothing', async (t) => {
  const { api, conn } = await standIn(t);
  const pod = api.addPod({ name: 'db-0', namespace: 'shop', readinessGates: [REGISTERED], replicaSet: null });
  const patch = (body: unknown) => call(conn, `${POD}/status`, { method: 'PATCH', contentType: SMP, body });
  const body = { metadata: { uid: pod.metadata.uid }, spec: { nodeName: 'elsewhere' }, status: { conditions: [{ type: REGISTERED, status: 'True' }] } };
  const patched = await patch(body);
  assert.equal(patched.status, 200, patched.text);
  assert.deepEqual(conditionsOf(patched.json), [...conditionsOf(pod), `${REGISTERED}=True`]);
  assert.equal((patched.json.spec as { nodeName: string }).nodeName, 'node-1', 'a write to /status changes only the status');
  assert.notEqual(patched.json.metadata.resourceVersion, pod.metadata.resourceVersion);
  const again = await patch(body);
  assert.equal(again.json.metadata.resourceVersion, patched.json.metadata.resourceVersion, 'nothing changed, nothing written');
  const main = await call(conn, POD, { method: 'PATCH', contentType: SMP, body: { metadata: { labels: { extra: 'yes' } }, status: { phase: 'Failed' } } });
  assert.deepEqual([main.json.metadata.labels?.extra, (main.json.status as { phase: string }).phase], ['yes', 'Running'], 'a write to the pod leaves its status alone');
});

test('a patch carrying another metadata.uid is 422 field is immutable; a PUT to /status with another uid is 409', async (t) => {
  const { api, conn } = await standIn(t);
  const pod = api.addPod({ name: 'db-0', namespace: 'shop', replicaSet: null });
  const stale = await call<Status>(conn, `${POD}/status`, { method: 'PATCH', contentType: SMP, body: { metadata: { uid: 'uid-of-an-older-db-0' }, status: { conditions: [{ type: REGISTERED, status: 'True' }] } } });
  assert.equal(stale.status, 422);
  assert.deepEqual(stale.json, {
    kind: 'Status',
    apiVersion: 'v1',
    metadata: {},
    status: 'Failure',
    message: 'Pod "db-0" is invalid: metadata.uid: Invalid value: "uid-of-an-older-db-0": field is immutable',
    reason: 'Invalid',
    details: { name: 'db-0', kind: 'Pod', causes: [{ reason: 'FieldValueInvalid', message: 'Invalid value: "uid-of-an-older-db-0": field is immutable', field: 'metadata.uid' }] },
    code: 422,
  });
  const put = await call<Status>(conn, `${POD}/status`, { method: 'PUT', body: { ...pod, metadata: { ...pod.metadata, uid: 'uid-of-an-older-db-0' } } });
  assert.deepEqual([put.status, put.json.reason, put.json.details], [409, 'Conflict', { name: 'db-0', kind: 'pods' }]);
  assert.match(put.json.message ?? '', /^Operation cannot be fulfilled on pods "db-0": StorageError: invalid object, .*Precondition failed: UID in precondition: uid-of-an-older-db-0, UID in object meta: [0-9a-f-]{36}$/);
  const missing = await call<Status>(conn, '/api/v1/namespaces/shop/pods/db-9/status', { method: 'PATCH', contentType: SMP, body: { metadata: { uid: pod.metadata.uid } } });
  assert.deepEqual([missing.status, missing.json.message], [404, 'pods "db-9" not found']);
  assert.equal(api.pod('shop', 'db-0')?.metadata.resourceVersion, pod.metadata.resourceVersion, 'nothing was written');
});

test('merge and JSON patches apply as RFC 7386 and RFC 6902 say; a failed JSON-patch test is 422', async (t) => {
  const { api, conn } = await standIn(t);
  api.addPod({ name: 'db-0', namespace: 'shop', labels: { a: '1', b: '2' }, replicaSet: null });
  const merged = await call(conn, POD, { method: 'PATCH', contentType: 'application/merge-patch+json', body: { metadata: { labels: { a: null, c: '3' } } } });
  assert.deepEqual([merged.json.metadata.labels?.a, merged.json.metadata.labels?.c], [undefined, '3']);
  const json = await call(conn, POD, { method: 'PATCH', contentType: 'application/json-patch+json', body: [{ op: 'test', path: '/metadata/labels/b', value: '2' }, { op: 'add', path: '/metadata/annotations', value: { 'x/y': 'z' } }, { op: 'replace', path: '/metadata/labels/b', value: '4' }] });
  assert.deepEqual([json.status, json.json.metadata.annotations, json.json.metadata.labels?.b], [200, { 'x/y': 'z' }, '4']);
  const failed = await call<Status>(conn, POD, { method: 'PATCH', contentType: 'application/json-patch+json', body: [{ op: 'test', path: '/metadata/labels/b', value: '2' }] });
  assert.deepEqual([failed.status, failed.json.reason], [422, 'Invalid']);
  const apply = await call<Status>(conn, POD, { method: 'PATCH', contentType: 'application/apply-patch+yaml', body: 'metadata: {}' });
  assert.deepEqual([apply.status, apply.json.reason], [415, 'UnsupportedMediaType']);
  const stale = await call<Status>(conn, POD, { method: 'PATCH', contentType: SMP, body: { metadata: { resourceVersion: '1', labels: { d: '5' } } } });
  assert.deepEqual([stale.status, stale.json.reason], [409, 'Conflict'], 'a resourceVersion in a patch is a precondition');
});

test('leases: create 201, again 409 AlreadyExists; update with a stale resourceVersion 409 Conflict, without one 422', async (t) => {
  const { api, conn } = await standIn(t);
  api.addNamespace('shop');
  const lease = { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'cmdb-hook' }, spec: { holderIdentity: 'pod-a', leaseDurationSeconds: 15, acquireTime: '2026-01-01T00:00:00.000000Z', renewTime: '2026-01-01T00:00:00.000000Z', leaseTransitions: 0 } };
  const created = await call(conn, LEASES, { method: 'POST', body: lease });
  assert.equal(created.status, 201);
  const again = await call<Status>(conn, LEASES, { method: 'POST', body: { ...lease, spec: { ...lease.spec, holderIdentity: 'pod-b' } } });
  assert.equal(again.status, 409);
  assert.deepEqual(again.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'leases.coordination.k8s.io "cmdb-hook" already exists', reason: 'AlreadyExists', details: { name: 'cmdb-hook', group: 'coordination.k8s.io', kind: 'leases' }, code: 409 });
  const renew = (resourceVersion: string | undefined, holder: string) => call<KubeObject & Status>(conn, `${LEASES}/cmdb-hook`, { method: 'PUT', body: { ...created.json, metadata: { ...created.json.metadata, resourceVersion }, spec: { ...lease.spec, holderIdentity: holder, renewTime: new Date().toISOString() } } });
  const renewed = await renew(created.json.metadata.resourceVersion, 'pod-a');
  assert.equal(renewed.status, 200);
  const stale = await renew(created.json.metadata.resourceVersion, 'pod-b');
  assert.equal(stale.status, 409);
  assert.deepEqual({ ...stale.json }, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Operation cannot be fulfilled on leases.coordination.k8s.io "cmdb-hook": the object has been modified; please apply your changes to the latest version and try again', reason: 'Conflict', details: { name: 'cmdb-hook', group: 'coordination.k8s.io', kind: 'leases' }, code: 409 });
  const blind = await renew(undefined, 'pod-b');
  assert.deepEqual([blind.status, blind.json.reason, blind.json.message], [422, 'Invalid', 'leases.coordination.k8s.io "cmdb-hook" is invalid: metadata.resourceVersion: Invalid value: 0: must be specified for an update']);
  const current = await call(conn, `${LEASES}/cmdb-hook`);
  assert.equal((current.json.spec as { holderIdentity: string }).holderIdentity, 'pod-a');
  const removed = await call<Status>(conn, `${LEASES}/cmdb-hook`, { method: 'DELETE' });
  assert.deepEqual([removed.status, removed.json.status, removed.json.details?.name], [200, 'Success', 'cmdb-hook']);
});

test('create: a pod starts Pending whatever its body says, in an existing namespace, under a taken name 409', async (t) => {
  const { api, conn } = await standIn(t);
  const body = { apiVersion: 'v1', kind: 'Pod', metadata: { generateName: 'web-', resourceVersion: '7' }, spec: { containers: [{ name: 'app', image: 'a:1' }] }, status: { phase: 'Running' } };
  const missing = await call<Status>(conn, '/api/v1/namespaces/nowhere/pods', { method: 'POST', body });
  assert.deepEqual([missing.status, missing.json.message], [404, 'namespaces "nowhere" not found']);
  api.addNamespace('shop');
  const created = await call(conn, '/api/v1/namespaces/shop/pods', { method: 'POST', body });
  assert.equal(created.status, 201);
  assert.match(created.json.metadata.name ?? '', /^web-[a-z0-9]{5}$/);
  assert.deepEqual([created.json.status, created.json.metadata.generation], [{ phase: 'Pending', qosClass: 'BestEffort' }, 1]);
  const taken = await call<Status>(conn, '/api/v1/namespaces/shop/pods', { method: 'POST', body: { ...body, metadata: { name: created.json.metadata.name } } });
  assert.deepEqual([taken.status, taken.json.reason], [409, 'AlreadyExists']);
  const gates = await call<Status>(conn, `/api/v1/namespaces/shop/pods/${created.json.metadata.name ?? ''}`, { method: 'PATCH', contentType: SMP, body: { spec: { readinessGates: [{ conditionType: REGISTERED }] } } });
  assert.deepEqual([gates.status, gates.json.reason, gates.json.details?.causes?.[0]?.field], [422, 'Invalid', 'spec'], 'readiness gates are fixed at creation');
  const image = await call(conn, `/api/v1/namespaces/shop/pods/${created.json.metadata.name ?? ''}`, { method: 'PATCH', contentType: SMP, body: { spec: { containers: [{ name: 'app', image: 'a:2' }] } } });
  assert.deepEqual([image.status, image.json.metadata.generation], [200, 2], 'an image change bumps the generation');
});

test('a graceful delete marks the pod; the kubelet\'s final delete removes it; unscheduled pods and grace 0 go at once', async (t) => {
  const { api, conn } = await standIn(t);
  api.addPod({ name: 'db-0', namespace: 'shop', replicaSet: null });
  api.addPod({ name: 'pending', namespace: 'shop', nodeName: null, replicaSet: null });
  const stream = await watch(conn, `/api/v1/namespaces/shop/pods?watch=true&resourceVersion=${api.store.resourceVersion}`);
  t.after(() => stream.close());
  const precondition = await call<Status>(conn, POD, { method: 'DELETE', body: { kind: 'DeleteOptions', apiVersion: 'v1', preconditions: { uid: 'not-this-one' } } });
  assert.deepEqual([precondition.status, precondition.json.reason], [409, 'Conflict']);
  const marked = await call(conn, POD, { method: 'DELETE', body: { kind: 'DeleteOptions', apiVersion: 'v1', gracePeriodSeconds: 20 } });
  assert.equal(marked.status, 200);
  assert.equal(marked.json.metadata.deletionGracePeriodSeconds, 20);
  assert.ok(Date.parse(marked.json.metadata.deletionTimestamp ?? '') > Date.now() + 15_000);
  assert.ok(api.pod('shop', 'db-0'), 'still there during its grace period');
  api.finishDeletion('shop', 'db-0');
  const pending = await call(conn, '/api/v1/namespaces/shop/pods/pending?gracePeriodSeconds=30', { method: 'DELETE' });
  assert.deepEqual([pending.status, pending.json.metadata.name], [200, 'pending']);
  const events = await stream.next(3);
  assert.deepEqual(events.map((event) => `${event.type} ${event.object.metadata.name ?? ''}`), ['MODIFIED db-0', 'DELETED db-0', 'DELETED pending']);
  assert.deepEqual(api.pods('shop'), []);
});

test('events posted as core v1 Events are stored and listed by involvedObject field selectors', async (t) => {
  const { api, conn } = await standIn(t);
  api.addNamespace('shop');
  const post = (name: string, uid: string, reason: string) => call(conn, '/api/v1/namespaces/shop/events', { method: 'POST', body: { metadata: { name }, involvedObject: { kind: 'Pod', namespace: 'shop', name: 'db-0', uid, apiVersion: 'v1' }, reason, type: 'Normal', message: reason, source: { component: 'cmdb-hook' } } });
  assert.equal((await post('db-0.1', 'uid-1', 'Registered')).status, 201);
  assert.equal((await post('db-0.2', 'uid-2', 'Registered')).status, 201);
  assert.deepEqual(api.events('shop').map((event) => event.metadata.name), ['db-0.1', 'db-0.2']);
  const selected = await call<KubeList>(conn, '/api/v1/namespaces/shop/events?fieldSelector=involvedObject.uid%3Duid-2,reason%3DRegistered,source%3Dcmdb-hook');
  assert.deepEqual(selected.json.items.map((event) => event.metadata.name), ['db-0.2']);
  const unknown = await call<Status>(conn, '/api/v1/namespaces/shop/events?fieldSelector=involvedObject.color%3Dred');
  assert.deepEqual([unknown.status, unknown.json.message], [400, 'field label not supported: involvedObject.color']);
});
