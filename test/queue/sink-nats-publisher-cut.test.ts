// The publisher cut off from the broker for 60 s while pods change (it reaches nats-server through a proxy that
// closes its connection and refuses new ones, as a firewall or a lost route would): nothing it derived meanwhile is
// confirmed, so nothing is lost; once it reconnects, the CMDB converges, each change written once.
// Why the full 60 s: a publish attempt of the controller's work queue gives up after 30 s (attemptTimeoutMs), so a
// cut of 60 s takes every waiting transition through at least one expired attempt and the queue's backoff, which a
// cut of a few seconds (the broker-restart test) never reaches.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { startNatsServer, type NatsServer } from '../support/brokers/nats-server.ts';
import { startTcpProxy, type TcpProxy } from '../support/brokers/tcp-proxy.ts';
import { SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';

const CUT_MS = 60_000;

let scene: Scene;
let nats: NatsServer;
let proxy: TcpProxy;
before(async () => {
  nats = await startNatsServer();
  proxy = await startTcpProxy({ port: nats.port });
  scene = await startScene();
});
after(async () => {
  await scene.close();
  await proxy.close();
  await nats.dispose();
});

const selected = (name: string) => ({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });
const natsFlags = (url: string) => ['--nats-url', url, '--nats-token-file', nats.tokenFile];
const live = () => [...scene.cmdb.records.values()].filter((record) => record.state === 'ready').map((record) => `${record.pod.name}:${(record.labels as Record<string, string>).track ?? '-'}`).sort();

test('the publisher cut off from NATS for 60 s while pods change: after it reconnects the CMDB converges', async (t) => {
  for (const name of ['web-a', 'web-b']) scene.api.addPod(selected(name));
  const publisher = scene.start(['--sink', 'nats', ...natsFlags(proxy.url('nats')), '--leader-elect=false', '--orphan-grace', '0s'], {}, { cmdb: false });
  const consumer = scene.start(['--source', 'nats', ...natsFlags(nats.url)], {}, { command: 'consume' });
  for (const each of [publisher, consumer]) assert.ok(await untilReady(each), each.stderr());
  assert.ok(await waitFor(() => live().join() === 'web-a:-,web-b:-', 15_000), consumer.stderr());
  const before = scene.cmdb.writes().length;

  proxy.cut();
  const cutAt = performance.now();
  scene.api.addPod(selected('web-c'));
  await sleep(5_000);
  scene.api.deletePod('shop', 'web-a', 0);
  scene.api.modifyPod('shop', 'web-b', (pod) => {
    (pod.metadata.labels ??= {}).track = 'canary';
  });
  await sleep(20_000);
  scene.api.addPod(selected('web-d'));
  await sleep(CUT_MS - (performance.now() - cutAt));
  assert.equal(scene.cmdb.writes().length, before, 'nothing reached the CMDB while the publisher was cut off');
  proxy.restore();
  const backAt = performance.now();

  assert.ok(await waitFor(() => live().join() === 'web-b:canary,web-c:-,web-d:-' && scene.cmdb.records.size === 3, 40_000), JSON.stringify(live()) + publisher.stderr().slice(-3000));
  const tookMs = performance.now() - backAt;
  const writes = scene.cmdb.writes().slice(before);
  const paths = writes.map((entry) => `${entry.method} ${entry.path}`);
  assert.equal(writes.filter((entry) => entry.method === 'PUT').length, 3, paths.join('\n'));
  assert.equal(writes.filter((entry) => entry.method === 'DELETE').length, 1, paths.join('\n'));
  assert.equal(new Set(paths).size, paths.length, 'no record written twice');
  const said = (text: string) => publisher.logs().some((line) => line.msg === text);
  assert.ok(said('disconnected from NATS; reconnecting') && said('reconnected to NATS'), publisher.stderr().slice(-3000));
  assert.ok(proxy.accepted >= 2, 'the publisher connected again through the proxy');
  t.diagnostic(`cut ${CUT_MS} ms; converged ${Math.round(tookMs)} ms after the publisher could reach NATS again`);
  for (const each of [publisher, consumer]) assert.equal(await each.stop(), 0, each.stderr());
});
