// The first list's pages are acted on as they come: the pods of a first page are registered while a later page is
// still refused, and once the list completes the first full pass writes nothing twice (its creates were made
// already) and still retires a record whose pod no page named, after the orphan grace.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { identityFromApiPod } from '../../src/pod/from-api-pod.ts';
import { buildRecord } from '../../src/pod/record.ts';
import { CLUSTER, SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';
import { makePod } from '../support/kube-api/pods.ts';
import type { StoredRecord } from '../support/sandbox-cmdb.ts';

let scene: Scene;
before(async () => {
  scene = await startScene();
});
after(() => scene.close());

/** More than the controller's page (500), so the list needs a second page. Pods come in name order. */
const READY = 12;
const WAITING = 500;
const selected = (name: string, ready: boolean) => ({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED }, ready });
const isPodList = (path: string, query: URLSearchParams) => path === '/api/v1/pods' && query.get('watch') !== 'true' && query.get('watch') !== '1';

test('a first page\'s pods are registered while the next page is still refused; nothing is written twice', async () => {
  for (let index = 0; index < READY; index++) scene.api.addPod(selected(`a-web-${String(index).padStart(2, '0')}`, true));
  for (let index = 0; index < WAITING; index++) scene.api.addPod(selected(`b-batch-${String(index).padStart(3, '0')}`, false));
  for (let index = 0; index < 3; index++) scene.api.addPod(selected(`c-late-${index}`, true));
  // The record of a pod that crashed away an hour ago, as its hook wrote it: no page names it.
  const gone = buildRecord(identityFromApiPod(makePod(selected('gone-0', true)) as never), { cluster: CLUSTER, container: 'app', app: undefined, fields: {} }, 'ready', new Date(Date.now() - 3_600_000));
  scene.cmdb.records.set(gone.id, gone as unknown as StoredRecord);

  // The second page is refused (500) until the first page's records are in the CMDB, for 20 s at most: a controller
  // that waited for the whole list before writing would never see them within that time.
  const refusedUntil = performance.now() + 20_000;
  let refused = 0;
  scene.api.injectFault({
    status: 500,
    match: (request) => {
      const refuse = isPodList(request.path, request.query) && request.query.has('continue') && scene.cmdb.records.size < READY && performance.now() < refusedUntil;
      if (refuse) refused++;
      return refuse;
    },
  }, Number.POSITIVE_INFINITY);

  const controller = scene.start(['--orphan-grace', '1s', '--leader-elect=false']);
  assert.ok(await untilReady(controller, 30_000), controller.stderr());
  const live = () => [...scene.cmdb.records.values()].filter((record) => record.id !== gone.id).length;
  assert.ok(await waitFor(() => live() === READY + 3, 10_000), controller.stderr());
  // The first full pass, after the last page, still retires: once the grace is over, counted from that pass.
  assert.ok(await waitFor(() => !scene.cmdb.records.has(gone.id), 10_000), 'the record of no listed pod is retired after the grace');

  assert.ok(refused >= 1, 'the second page was refused at least once');
  const listedWhole = scene.api.requests.find((request) => isPodList(request.path, request.query) && request.query.has('continue') && request.status === 200);
  assert.ok(listedWhole, 'the list completed');
  const firstPageWritten = scene.cmdb.writes().filter((entry) => entry.method === 'PUT').slice(0, READY);
  assert.equal(firstPageWritten.length, READY);
  const pageTwoAt = listedWhole.at.getTime() - Date.now() + performance.now();
  assert.ok(firstPageWritten.every((entry) => entry.at < pageTwoAt), 'the first page\'s records were written before the second page was listed');

  const puts = scene.cmdb.writes().filter((entry) => entry.method === 'PUT').map((entry) => entry.path);
  assert.equal(puts.length, READY + 3, puts.join('\n'));
  assert.equal(new Set(puts).size, puts.length, 'no record written twice');
  assert.deepEqual(scene.cmdb.writes().filter((entry) => entry.method === 'DELETE').map((entry) => entry.path), [`/records/${gone.id}`]);
  await controller.stop();
});
