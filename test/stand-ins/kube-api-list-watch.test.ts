// The Kubernetes API stand-in's list and watch contract, spoken to directly over HTTPS (api-concepts: efficient
// detection of changes, watch bookmarks, large results in chunks, resource versions, 410 Gone).
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { makeCertificates } from '../support/certificates.ts';
import { call, watch, type Connection, type KubeList } from '../support/kube-api/http-client.ts';
import { startKubeApi, type KubeApi, type KubeApiOptions } from '../support/kube-api/kube-api-stand-in.ts';
import type { Status } from '../support/kube-api/status.ts';

const certificates = makeCertificates();
const PODS = '/api/v1/namespaces/shop/pods';

async function standIn(t: TestContext, options: KubeApiOptions = {}): Promise<{ api: KubeApi; api2: Connection }> {
  const api = await startKubeApi({ certificates, terminationDelayMs: null, ...options });
  t.after(() => api.close());
  return { api, api2: { url: api.url, ca: api.ca, token: api.token } };
}

const namesOf = (list: KubeList) => list.items.map((item) => item.metadata.name);

test('lists carry one resourceVersion and items without kind; one revision counts every write of every type', async (t) => {
  const { api, api2 } = await standIn(t);
  const pod = api.addPod({ name: 'a', namespace: 'shop' });
  assert.match(pod.metadata.uid ?? '', /^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  const first = await call<KubeList>(api2, PODS);
  assert.equal(first.status, 200);
  assert.deepEqual([first.json.kind, first.json.apiVersion], ['PodList', 'v1']);
  assert.equal(first.json.metadata.resourceVersion, pod.metadata.resourceVersion);
  assert.equal(first.json.items[0]?.kind, undefined, 'list items carry no kind');
  const lease = await call(api2, '/apis/coordination.k8s.io/v1/namespaces/shop/leases', { method: 'POST', body: { metadata: { name: 'leader' }, spec: { holderIdentity: 'a' } } });
  assert.equal(lease.status, 201);
  assert.equal(Number(lease.json.metadata.resourceVersion), Number(pod.metadata.resourceVersion) + 1);
  const second = await call<KubeList>(api2, PODS);
  assert.equal(second.json.metadata.resourceVersion, lease.json.metadata.resourceVersion, 'a lease write moves the pod list on too');
  const single = await call(api2, `${PODS}/a`);
  assert.deepEqual([single.json.kind, single.json.apiVersion, single.json.metadata.uid], ['Pod', 'v1', pod.metadata.uid]);
  assert.match(single.json.metadata.creationTimestamp ?? '', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
});

test('chunks show the first page\'s snapshot; an expired continue token is 410 Expired with a token that goes on', async (t) => {
  const { api, api2 } = await standIn(t);
  for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) api.addPod({ name, namespace: 'shop', labels: { app: 'x' } });
  const page1 = await call<KubeList>(api2, `${PODS}?limit=2`);
  assert.deepEqual(namesOf(page1.json), ['p1', 'p2']);
  assert.equal(page1.json.metadata.remainingItemCount, 3);
  const snapshot = page1.json.metadata.resourceVersion;
  api.modifyPod('shop', 'p3', (pod) => (pod.metadata.labels = { app: 'changed' }));
  api.deletePod('shop', 'p4', 0);
  api.addPod({ name: 'p6', namespace: 'shop' });
  const page2 = await call<KubeList>(api2, `${PODS}?limit=2&continue=${page1.json.metadata.continue ?? ''}`);
  assert.equal(page2.json.metadata.resourceVersion, snapshot);
  assert.deepEqual(namesOf(page2.json), ['p3', 'p4'], 'the deleted pod is still in the snapshot');
  assert.equal(page2.json.items[0]?.metadata.labels?.app, 'x', 'the changed pod as it was');
  const page3 = await call<KubeList>(api2, `${PODS}?limit=2&continue=${page2.json.metadata.continue ?? ''}`);
  assert.deepEqual(namesOf(page3.json), ['p5'], 'the pod made later is not in the snapshot');
  assert.equal(page3.json.metadata.continue, undefined);
  // A selector pages over the matching objects only, and gives no remainingItemCount.
  const selected = await call<KubeList>(api2, `${PODS}?limit=1&labelSelector=app%3Dx`);
  assert.deepEqual([namesOf(selected.json), selected.json.metadata.remainingItemCount], [['p1'], undefined]);

  api.expireContinueTokens();
  const gone = await call<Status>(api2, `${PODS}?limit=2&continue=${page1.json.metadata.continue ?? ''}`);
  assert.equal(gone.status, 410);
  assert.deepEqual({ ...gone.json, message: gone.json.message?.slice(0, 45), metadata: {} }, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'The provided continue parameter is too old to', reason: 'Expired', code: 410 });
  const rest = await call<KubeList>(api2, `${PODS}?limit=10&continue=${gone.json.metadata.continue ?? ''}`);
  assert.deepEqual(namesOf(rest.json), ['p3', 'p5', 'p6'], 'the inconsistent token goes on against the current state');

  const before = await call<KubeList>(api2, `${PODS}?limit=1`);
  api.addPod({ name: 'p7', namespace: 'shop' });
  api.compact();
  const compacted = await call<Status>(api2, `${PODS}?limit=1&continue=${before.json.metadata.continue ?? ''}`);
  assert.equal(compacted.status, 410);
  const both = await call<Status>(api2, `${PODS}?limit=1&resourceVersion=5&continue=${before.json.metadata.continue ?? ''}`);
  assert.deepEqual([both.status, both.json.reason], [400, 'BadRequest']);
  const future = await call<Status>(api2, `${PODS}?resourceVersion=${Number(snapshot) + 1000}`);
  assert.deepEqual([future.status, future.json.reason, future.headers['retry-after']], [504, 'Timeout', '1']);
});

test('a list at an exact resourceVersion shows that state; older than the history is 410', async (t) => {
  const { api, api2 } = await standIn(t, { historyLimit: 3 });
  const pod = api.addPod({ name: 'a', namespace: 'shop', labels: { v: '1' } });
  api.modifyPod('shop', 'a', (object) => (object.metadata.labels = { v: '2' }));
  const exact = await call<KubeList>(api2, `${PODS}?limit=5&resourceVersion=${pod.metadata.resourceVersion ?? ''}`);
  assert.deepEqual([exact.json.metadata.resourceVersion, exact.json.items[0]?.metadata.labels?.v], [pod.metadata.resourceVersion, '1']);
  const matched = await call<KubeList>(api2, `${PODS}?resourceVersionMatch=Exact&resourceVersion=${pod.metadata.resourceVersion ?? ''}`);
  assert.equal(matched.json.items[0]?.metadata.labels?.v, '1', 'resourceVersionMatch=Exact without limit');
  for (const v of ['3', '4', '5']) api.modifyPod('shop', 'a', (object) => (object.metadata.labels = { v }));
  const old = await call<Status>(api2, `${PODS}?limit=5&resourceVersion=${pod.metadata.resourceVersion ?? ''}`);
  assert.deepEqual([old.status, old.json.reason], [410, 'Expired']);
  const notOlderThan = await call<KubeList>(api2, `${PODS}?resourceVersion=${pod.metadata.resourceVersion ?? ''}`);
  assert.equal(notOlderThan.json.items[0]?.metadata.labels?.v, '5', 'without limit: the current state');
});

test('a watch from a resourceVersion replays what came after; too old is an ERROR 410 in the stream, or an HTTP 410', async (t) => {
  const { api, api2 } = await standIn(t, { historyLimit: 2 });
  const a = api.addPod({ name: 'a', namespace: 'shop' });
  api.addPod({ name: 'b', namespace: 'shop' });
  api.modifyPod('shop', 'a', (pod) => (pod.metadata.labels = { x: 'y' }));
  const replay = await watch(api2, `${PODS}?watch=1&resourceVersion=${a.metadata.resourceVersion ?? ''}`);
  t.after(() => replay.close());
  const events = await replay.next(2);
  assert.deepEqual(events.map((event) => `${event.type} ${event.object.metadata.name ?? ''}`), ['ADDED b', 'MODIFIED a']);
  api.deletePod('shop', 'b', 0);
  assert.equal((await replay.next(3))[2]?.type, 'DELETED');

  api.compact();
  const inStream = await watch(api2, `${PODS}?watch=true&resourceVersion=${a.metadata.resourceVersion ?? ''}`);
  await inStream.ended;
  assert.equal(inStream.status, 200);
  assert.deepEqual(inStream.events.map((event) => [event.type, event.object.kind, event.object.code, event.object.reason]), [['ERROR', 'Status', 410, 'Expired']]);
  assert.match(inStream.events[0]?.object.message ?? '', /^too old resource version: \d+ \(\d+\)$/);
  api.watches.settings.goneAs = 'http';
  const http = await call<Status>(api2, `${PODS}?watch=true&resourceVersion=${a.metadata.resourceVersion ?? ''}`);
  assert.deepEqual([http.status, http.json.kind, http.json.reason, http.json.code], [410, 'Status', 'Expired', 410]);
});

test('a watch without resourceVersion starts with ADDED; under a selector, leaving it is DELETED and entering ADDED', async (t) => {
  const { api, api2 } = await standIn(t);
  api.addPod({ name: 'a', namespace: 'shop', labels: { app: 'web' }, nodeName: 'n1' });
  api.addPod({ name: 'b', namespace: 'shop', labels: { app: 'db' }, nodeName: 'n1' });
  api.addPod({ name: 'c', namespace: 'other', labels: { app: 'web' }, nodeName: 'n1' });
  const stream = await watch(api2, `${PODS}?watch=true&labelSelector=app%3Dweb&fieldSelector=spec.nodeName%3Dn1`);
  t.after(() => stream.close());
  assert.deepEqual((await stream.next(1)).map((event) => `${event.type} ${event.object.metadata.name ?? ''}`), ['ADDED a']);
  const moved = api.modifyPod('shop', 'a', (pod) => (pod.metadata.labels = { app: 'old' }));
  api.modifyPod('shop', 'b', (pod) => (pod.metadata.labels = { app: 'web' }));
  api.modifyPod('other', 'c', (pod) => (pod.metadata.labels = { app: 'old' }));
  api.modifyPod('shop', 'b', (pod) => ((pod.spec as { nodeName: string }).nodeName = 'n2'));
  const events = await stream.next(4);
  assert.deepEqual(events.map((event) => `${event.type} ${event.object.metadata.name ?? ''}`), ['ADDED a', 'DELETED a', 'ADDED b', 'DELETED b']);
  const left = events[1]?.object;
  assert.deepEqual([left?.metadata.labels?.app, left?.metadata.resourceVersion], ['web', moved.metadata.resourceVersion], 'the last matching state, at the new resourceVersion');
});

test('bookmarks go only to watches that allowed them and carry only kind, apiVersion and resourceVersion', async (t) => {
  const { api, api2 } = await standIn(t);
  api.addPod({ name: 'a', namespace: 'shop' });
  const rv = api.store.resourceVersion;
  const allowed = await watch(api2, `${PODS}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`);
  const plain = await watch(api2, `${PODS}?watch=true&resourceVersion=${rv}`);
  t.after(() => [allowed, plain].forEach((stream) => stream.close()));
  await call(api2, '/apis/coordination.k8s.io/v1/namespaces/shop/leases', { method: 'POST', body: { metadata: { name: 'moves-the-revision' } } });
  assert.equal(api.watches.bookmark(), 1);
  const [bookmark] = await allowed.next(1);
  assert.deepEqual(bookmark, { type: 'BOOKMARK', object: { kind: 'Pod', apiVersion: 'v1', metadata: { resourceVersion: String(api.store.resourceVersion) } } });
  api.modifyPod('shop', 'a', (pod) => (pod.metadata.labels = { x: 'y' }));
  assert.deepEqual((await plain.next(1)).map((event) => event.type), ['MODIFIED'], 'the watch without bookmarks got none');
});

test('bookmarks at an interval when the stand-in is asked to send them', async (t) => {
  const { api, api2 } = await standIn(t, { bookmarkIntervalMs: 50 });
  api.addNamespace('shop');
  const stream = await watch(api2, `${PODS}?watch=true&resourceVersion=${api.store.resourceVersion}&allowWatchBookmarks=true`);
  t.after(() => stream.close());
  assert.deepEqual((await stream.next(2)).map((event) => event.type), ['BOOKMARK', 'BOOKMARK']);
});

test('timeoutSeconds ends a watch; drop, error and stall act on open watches', async (t) => {
  const { api, api2 } = await standIn(t);
  api.addPod({ name: 'a', namespace: 'shop' });
  const rv = String(api.store.resourceVersion);
  const timed = await watch(api2, `${PODS}?watch=true&resourceVersion=${rv}&timeoutSeconds=1`);
  const started = Date.now();
  await timed.ended;
  assert.ok(Date.now() - started < 2500, 'ended by timeoutSeconds');
  const cut = await watch(api2, `${PODS}?watch=true&resourceVersion=${rv}`);
  assert.equal(api.watches.drop('cut'), 1);
  await cut.ended;
  const failed = await watch(api2, `${PODS}?watch=true&resourceVersion=${rv}`);
  api.watches.error();
  await failed.ended;
  assert.deepEqual(failed.events.map((event) => [event.type, event.object.code]), [['ERROR', 410]]);
  const stalled = await watch(api2, `${PODS}?watch=true&resourceVersion=${rv}&allowWatchBookmarks=true`);
  t.after(() => stalled.close());
  api.watches.stall();
  api.modifyPod('shop', 'a', (pod) => (pod.metadata.labels = { x: 'y' }));
  assert.equal(api.watches.bookmark(), 0);
  await new Promise((resolve) => setTimeout(resolve, 200));
  assert.deepEqual(stalled.events, [], 'nothing arrives on a stalled watch');
  assert.equal(api.watches.open, 1, 'yet it stays open');
});

test('sendInitialEvents: the current objects as ADDED, then a bookmark marking the end of the initial events', async (t) => {
  const { api, api2 } = await standIn(t);
  api.addPod({ name: 'a', namespace: 'shop' });
  const refused = await call<Status>(api2, `${PODS}?watch=true&sendInitialEvents=true`);
  assert.equal(refused.status, 400);
  const stream = await watch(api2, `${PODS}?watch=true&sendInitialEvents=true&allowWatchBookmarks=true&resourceVersionMatch=NotOlderThan`);
  t.after(() => stream.close());
  const [added, end] = await stream.next(2);
  assert.equal(added?.type, 'ADDED');
  assert.deepEqual([end?.type, end?.object.metadata.annotations], ['BOOKMARK', { 'k8s.io/initial-events-end': 'true' }]);
});
