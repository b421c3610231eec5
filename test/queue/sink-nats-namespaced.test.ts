// A publisher that watches some namespaces (--namespace) sends inventories of those namespaces only. On a real
// nats-server: the consumer retires what such an inventory misses within its namespaces (a record a lost message
// left behind), and never the records of namespaces the publisher does not watch.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { identityFromApiPod } from '../../src/pod/from-api-pod.ts';
import { buildRecord } from '../../src/pod/record.ts';
import { startNatsServer, type NatsServer } from '../support/brokers/nats-server.ts';
import { CLUSTER, SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';
import { makePod } from '../support/kube-api/pods.ts';
import type { StoredRecord } from '../support/sandbox-cmdb.ts';

let scene: Scene;
let nats: NatsServer;
before(async () => {
  nats = await startNatsServer();
  scene = await startScene();
});
after(async () => {
  await scene.close();
  await nats.dispose();
});

const natsFlags = () => ['--nats-url', nats.url, '--nats-token-file', nats.tokenFile];

/** A record cmdb-hook wrote an hour ago for a pod that is not in the API. */
function leftover(name: string, namespace: string): StoredRecord {
  const record = buildRecord(identityFromApiPod(makePod({ name, namespace, labels: SELECTED }) as never), { cluster: CLUSTER, container: 'app', app: undefined, fields: {} }, 'ready', new Date(Date.now() - 3_600_000));
  return record as unknown as StoredRecord;
}

test('a namespaced publisher\'s inventory retires within its namespaces only', async () => {
  for (const name of ['web-a', 'web-b', 'web-c']) scene.api.addPod({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });
  // Read as the whole cluster's, the shop inventory would miss all three (3 of 6 records, not more than half).
  const lost = leftover('web-gone', 'shop');
  const others = [leftover('ads-0', 'ads'), leftover('ads-1', 'ads')];
  for (const record of [lost, ...others]) scene.cmdb.records.set(record.id, record);

  const publisher = scene.start(['--sink', 'nats', ...natsFlags(), '--namespace', 'shop', '--leader-elect=false', '--resync', '2s'], {}, { cmdb: false });
  const consumer = scene.start(['--source', 'nats', ...natsFlags(), '--orphan-grace', '0s'], {}, { command: 'consume' });
  for (const process of [publisher, consumer]) assert.ok(await untilReady(process), process.stderr());
  const live = () => [...scene.cmdb.records.values()].filter((record) => record.state === 'ready' || record.state === undefined);
  assert.ok(await waitFor(() => !scene.cmdb.records.has(lost.id), 20_000), `the shop leftover is retired\n${consumer.stderr()}`);
  await sleep(5_000); // two more passes of the publisher, each with its inventory
  await publisher.stop();
  await consumer.stop();

  assert.deepEqual(live().map((record) => `${String(record.namespace)}/${record.pod.name}`).sort(), ['ads/ads-0', 'ads/ads-1', 'shop/web-a', 'shop/web-b', 'shop/web-c']);
  assert.deepEqual(scene.cmdb.writes().filter((request) => request.method === 'DELETE').map((request) => request.path), [`/records/${lost.id}`], 'one DELETE: the shop leftover');
  const complete = consumer.logs().filter((line) => String(line.msg).includes('complete:'));
  assert.ok(complete.length >= 2, 'several inventories applied');
  assert.ok(complete.every((line) => JSON.stringify(line.namespaces) === '["shop"]'), 'each named its namespaces');
});
