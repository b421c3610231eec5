// Scenario 8 of the controller: the pods' list and watch break in each way the API contract allows, and the CMDB
// still ends right: an expired continue token in the first (paginated) list, a 410 Gone when the first watch starts,
// the watch cut with the history compacted while it was away, and a 410 as an in-stream ERROR after a watch that
// missed events. Each time the controller lists again; a pod added and one deleted while the watch was away are
// registered and retired; no record is written twice.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { ApiRequest } from '../support/kube-api/server.ts';
import { SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';

let scene: Scene;
before(async () => {
  scene = await startScene();
});
after(() => scene.close());

/** More than the controller's page (500): the list needs a continue token. Not ready, so they call for no record. */
const WAITING = 520;
const selected = (name: string, ready = true) => ({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED }, ready });

const podRequests = (kind: 'list' | 'watch') => scene.api.requests.filter((request) => request.method === 'GET' && request.path === '/api/v1/pods' && (request.query.get('watch') === 'true' || request.query.get('watch') === '1') === (kind === 'watch'));
const firstPages = () => podRequests('list').filter((request) => !request.query.has('continue'));
const uidOf = (name: string) => scene.api.pod('shop', name)?.metadata.uid ?? '';
const names = () => [...scene.cmdb.records.values()].map((record) => `${record.pod.name} ${record.state}`).sort();

/** Runs `action` once, the moment the first request that `when` matches arrives, before the server answers it. */
function onFirst(when: (request: ApiRequest) => boolean, action: () => void): void {
  let done = false;
  scene.api.injectFault({
    status: 500,
    match: (request) => {
      if (!done && when(request)) {
        done = true;
        action();
      }
      return false;
    },
  });
}

test('watch faults: relisted each time, nothing missed, nothing written twice', async () => {
  for (let index = 0; index < WAITING; index++) scene.api.addPod(selected(`batch-${String(index).padStart(3, '0')}`, false));
  for (const name of ['web-a', 'web-b', 'web-c']) scene.api.addPod(selected(name));

  // The first list's second page finds its token expired (etcd compacted in between); the first watch finds its
  // resourceVersion gone, with a pod added in between that only a new list shows.
  onFirst((request) => request.query.has('continue'), () => scene.api.expireContinueTokens());
  onFirst((request) => request.query.get('watch') === 'true' || request.query.get('watch') === '1', () => {
    scene.api.addPod(selected('web-d'));
    scene.api.compact();
    scene.api.watches.settings.goneAs = 'http';
  });
  const controller = scene.start(['--orphan-grace', '1s', '--leader-elect=false']);
  assert.ok(await untilReady(controller), controller.stderr());
  assert.ok(await waitFor(() => scene.cmdb.records.size === 4, 10_000), names().join());
  const expired = podRequests('list').find((request) => request.query.has('continue'));
  assert.equal(expired?.status, 410, 'the continue token expired');
  const watchGone = podRequests('watch')[0];
  assert.equal(watchGone?.status, 410, 'the first watch was refused: too old');
  assert.ok(await waitFor(() => firstPages().length >= 3 && podRequests('watch').some((request) => request.status === 200), 5000), 'listed from the start after each 410, then watching');
  assert.match((await controller.get('/metrics')).body, new RegExp(`^cmdb_hook_controller_pods ${WAITING + 4}$`, 'm'), 'every pod of both pages seen');
  scene.api.watches.settings.goneAs = 'event';

  // The watch cut; while it is away a pod is added, one deleted, and the history compacted: its resourceVersion is
  // gone when it comes back (an in-stream ERROR 410 this time), so only a new list tells what happened.
  let lists = firstPages().length;
  assert.ok(scene.api.watches.drop('cut') >= 1);
  const webA = uidOf('web-a');
  scene.api.addPod(selected('web-e'));
  scene.api.deletePod('shop', 'web-a', 0);
  scene.api.compact();
  assert.ok(await waitFor(() => firstPages().length > lists, 10_000), 'listed again after the cut');
  assert.ok(await waitFor(() => names().join() === ['web-b ready', 'web-c ready', 'web-d ready', 'web-e ready'].join(), 10_000), names().join());
  assert.ok(![...scene.cmdb.records.values()].some((record) => record.pod.uid === webA));

  // A watch that stops delivering, then ends with an in-stream 410: the pod it missed and the one deleted are found.
  lists = firstPages().length;
  assert.ok(await waitFor(() => scene.api.watches.open >= 1, 5000));
  scene.api.watches.stall();
  scene.api.addPod(selected('web-f'));
  scene.api.deletePod('shop', 'web-c', 0);
  scene.api.compact();
  assert.ok(scene.api.watches.error() >= 1);
  assert.ok(await waitFor(() => firstPages().length > lists, 10_000), 'listed again after the in-stream 410');
  assert.ok(await waitFor(() => names().join() === ['web-b ready', 'web-d ready', 'web-e ready', 'web-f ready'].join(), 10_000), names().join());

  // Once each: 6 creates and 2 deletes, no path twice.
  const writes = scene.cmdb.writes().map((entry) => `${entry.method} ${entry.path}`);
  assert.equal(writes.length, 8, writes.join('\n'));
  assert.equal(new Set(writes).size, 8, writes.join('\n'));
  // Events are posted after each write lands: wait for them.
  assert.ok(await waitFor(() => scene.api.events('shop').filter((event) => (event as { reason?: string }).reason === 'CMDBRegistered').length === 6, 5000));
  assert.equal(await controller.stop(), 0);
});
