// The controller's pod list+watch against the API stand-in, the paths that go right: lists in pages, watch events,
// bookmarks, 410 Gone (at the start and in-stream), an expired continue token, a label selector, UIDs as keys.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeCertificates } from '../support/certificates.ts';
import { eventually, standInWithClient } from '../support/kube-client.ts';
import { namesOf, podRequests, recordPods } from '../support/pod-recorder.ts';

const certificates = makeCertificates();

test('lists in pages of one snapshot, then tells added/modified/deleted by UID (a recreated StatefulSet pod is another pod)', async (t) => {
  const { api, client } = await standInWithClient(t, certificates);
  for (const name of ['p1', 'p2', 'p3', 'p4', 'web-0']) api.addPod({ name, namespace: 'shop' });
  const snapshot = String(api.store.resourceVersion);
  const recorder = recordPods(t, client, { namespaces: ['shop'], pageSize: 2 });
  const [first] = await eventually('the first synced', () => (recorder.syncs().length ? recorder.syncs() : undefined));
  assert.deepEqual(namesOf(first?.pods ?? []), ['shop/p1', 'shop/p2', 'shop/p3', 'shop/p4', 'shop/web-0']);
  assert.deepEqual(first?.info, { complete: true, notListable: [], relisted: ['shop'] });
  assert.equal(first?.pods[0]?.kind, 'Pod', 'list items get the kind watch events carry');

  const pages = podRequests(api.requests, 'list');
  assert.deepEqual(pages.map((page) => [page.query.get('limit'), Boolean(page.query.get('continue')), page.query.get('resourceVersion')]), [['2', false, null], ['2', true, null], ['2', true, null]]);
  const [watch] = await eventually('a watch', () => (podRequests(api.requests, 'watch').length ? podRequests(api.requests, 'watch') : undefined));
  assert.equal(watch?.query.get('resourceVersion'), snapshot, 'the watch starts at the list\'s snapshot');
  assert.equal(watch?.query.get('allowWatchBookmarks'), 'true');
  const timeout = Number(watch?.query.get('timeoutSeconds'));
  assert.ok(timeout >= 300 && timeout <= 600, `timeoutSeconds ${timeout} is drawn from 5 to 10 minutes`);

  await eventually('the watch to be open', () => (api.watches.open > 0 ? true : undefined));
  const oldUid = api.pod('shop', 'web-0')?.metadata.uid;
  api.addPod({ name: 'p5', namespace: 'shop' });
  api.modifyPod('shop', 'p1', (pod) => (pod.metadata.labels = { ...pod.metadata.labels, tier: 'gold' }));
  api.deletePod('shop', 'p2', 0);
  api.deletePod('shop', 'web-0', 0);
  const newUid = api.addPod({ name: 'web-0', namespace: 'shop' }).metadata.uid;
  await eventually('five events', () => (recorder.events().length >= 5 ? true : undefined));
  assert.deepEqual(recorder.events(), ['added shop/p5', 'modified shop/p1', 'deleted shop/p2', 'deleted shop/web-0', 'added shop/web-0']);
  const uids = recorder.heard.slice(-2).map((entry) => (entry.kind === 'synced' ? '' : entry.pod.metadata?.uid));
  assert.deepEqual(uids, [oldUid, newUid]);
  assert.notEqual(oldUid, newUid);
  assert.equal(recorder.syncs().length, 1, 'no relist');
});

test('bookmarks move the resourceVersion on: after the server ends a watch, the next one starts at the bookmark', async (t) => {
  const { api, client } = await standInWithClient(t, certificates);
  api.addPod({ name: 'a', namespace: 'shop' });
  const recorder = recordPods(t, client, { namespaces: ['shop'] });
  await eventually('the watch to be open', () => (api.watches.open > 0 ? true : undefined));
  const listed = podRequests(api.requests, 'watch')[0]?.query.get('resourceVersion');
  // Writes of other objects move the server's revision on; a pod watch hears of them only through bookmarks.
  for (const name of ['x', 'y']) await client.request({ method: 'POST', path: '/apis/coordination.k8s.io/v1/namespaces/shop/leases', body: { metadata: { name } } });
  const marked = String(api.store.resourceVersion);
  assert.notEqual(marked, listed);
  assert.equal(api.watches.bookmark(), 1);
  await new Promise((resolve) => setTimeout(resolve, 100));
  api.watches.drop('end');
  const [, second] = await eventually('a second watch', () => (podRequests(api.requests, 'watch').length >= 2 ? podRequests(api.requests, 'watch') : undefined));
  assert.equal(second?.query.get('resourceVersion'), marked);
  assert.equal(podRequests(api.requests, 'list').length, 1, 'no relist');
  assert.deepEqual(recorder.problems, []);
});

for (const goneAs of ['http', 'event'] as const) {
  test(`410 at the start of a watch (${goneAs === 'http' ? 'HTTP 410' : 'an ERROR event'}) relists: the full set, nothing missed, nothing twice`, async (t) => {
    const { api, client } = await standInWithClient(t, certificates, { goneAs });
    for (const name of ['a', 'b']) api.addPod({ name, namespace: 'shop' });
    const recorder = recordPods(t, client, { namespaces: ['shop'] });
    await eventually('the watch to be open', () => (api.watches.open > 0 ? true : undefined));
    // The watch falls silent, the pods change meanwhile, and the server forgets the history before it comes back.
    api.watches.stall();
    api.deletePod('shop', 'b', 0);
    api.addPod({ name: 'c', namespace: 'shop' });
    api.modifyPod('shop', 'a', (pod) => (pod.metadata.labels = { ...pod.metadata.labels, moved: 'yes' }));
    api.compact();
    // A watch the server ends within a second with nothing sent counts as a failure (backoff); this one lived longer.
    await new Promise((resolve) => setTimeout(resolve, 1100));
    api.watches.drop('end');
    const second = await eventually('a second synced', () => recorder.syncs()[1]);
    assert.deepEqual(namesOf(second.pods), ['shop/a', 'shop/c'], 'b is gone from the full set: the caller can tell it was deleted');
    assert.equal(second.pods.find((pod) => pod.metadata?.name === 'a')?.metadata?.labels?.moved, 'yes');
    assert.equal(new Set(second.pods.map((pod) => pod.metadata?.uid)).size, second.pods.length);
    assert.deepEqual(recorder.events(), [], 'what changed while away comes in the synced, not as events too');
    assert.equal(podRequests(api.requests, 'list').length, 2);
    assert.equal(podRequests(api.requests, 'watch')[1]?.status, goneAs === 'http' ? 410 : 200);
    assert.deepEqual(recorder.problems, []);
    api.addPod({ name: 'd', namespace: 'shop' });
    await eventually('an event after the relist', () => (recorder.events().length ? true : undefined));
    assert.deepEqual(recorder.events(), ['added shop/d']);
  });
}

test('410 inside a running watch (etcd compacted under it) relists', async (t) => {
  const { api, client } = await standInWithClient(t, certificates);
  api.addPod({ name: 'a', namespace: 'shop' });
  const recorder = recordPods(t, client, { namespaces: ['shop'] });
  await eventually('the watch to be open', () => (api.watches.open > 0 ? true : undefined));
  api.watches.stall();
  api.addPod({ name: 'b', namespace: 'shop' });
  api.compact();
  api.watches.error();
  const second = await eventually('a second synced', () => recorder.syncs()[1]);
  assert.deepEqual(namesOf(second.pods), ['shop/a', 'shop/b']);
  assert.deepEqual(recorder.problems, [], 'a 410 is not a problem: it is how a watch says "list again"');
});

test('an expired continue token starts the list again from the first page', async (t) => {
  const { api, client } = await standInWithClient(t, certificates);
  for (const name of ['p1', 'p2', 'p3', 'p4', 'p5']) api.addPod({ name, namespace: 'shop' });
  let expired = false;
  // Not a fault: a hook that expires every token just before the first request for a second page is answered.
  api.injectFault({
    status: 500,
    match: (request) => {
      if (!expired && request.query.get('continue')) {
        api.expireContinueTokens();
        expired = true;
      }
      return false;
    },
  });
  const recorder = recordPods(t, client, { namespaces: ['shop'], pageSize: 2 });
  const [first] = await eventually('the first synced', () => (recorder.syncs().length ? recorder.syncs() : undefined));
  assert.deepEqual(namesOf(first?.pods ?? []), ['shop/p1', 'shop/p2', 'shop/p3', 'shop/p4', 'shop/p5']);
  const pages = podRequests(api.requests, 'list');
  assert.deepEqual(pages.map((page) => [Boolean(page.query.get('continue')), page.status]), [[false, 200], [true, 410], [false, 200], [true, 200], [true, 200]]);
});

test('a label selector is honoured by lists and watches; a pod that stops matching is deleted for the caller', async (t) => {
  const { api, client } = await standInWithClient(t, certificates);
  api.addPod({ name: 'web-1', namespace: 'shop', labels: { app: 'web' } });
  api.addPod({ name: 'web-2', namespace: 'other', labels: { app: 'web' } });
  api.addPod({ name: 'db-0', namespace: 'shop', labels: { app: 'db' } });
  const recorder = recordPods(t, client, { labelSelector: 'app=web' });
  const [first] = await eventually('the first synced', () => (recorder.syncs().length ? recorder.syncs() : undefined));
  assert.deepEqual(namesOf(first?.pods ?? []), ['other/web-2', 'shop/web-1'], 'every namespace, one list');
  assert.deepEqual(first?.info.relisted, ['*']);
  await eventually('the watch to be open', () => (api.watches.open > 0 ? true : undefined));
  api.addPod({ name: 'db-1', namespace: 'shop', labels: { app: 'db' } });
  api.modifyPod('shop', 'web-1', (pod) => (pod.metadata.labels = { app: 'retired' }));
  api.addPod({ name: 'web-3', namespace: 'shop', labels: { app: 'web' } });
  await eventually('two events', () => (recorder.events().length >= 2 ? true : undefined));
  assert.deepEqual(recorder.events(), ['deleted shop/web-1', 'added shop/web-3']);
  assert.ok(podRequests(api.requests, 'watch', '/api/v1/pods').every((request) => request.query.get('labelSelector') === 'app=web'));
});
