// The broker killed (SIGKILL) while pods change, and started again on the same port and store: the publisher's
// confirmed view does not move on without a PubAck, its work queue tries again, the consumer's pull resumes, and
// the CMDB converges with each registration and removal written once.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { startNatsServer, type NatsServer } from '../support/brokers/nats-server.ts';
import { SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';

const DOWN_MS = 4_000;

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

const selected = (name: string) => ({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });
const natsFlags = () => ['--nats-url', nats.url, '--nats-token-file', nats.tokenFile];
const names = () => [...scene.cmdb.records.values()].filter((record) => record.state === 'ready').map((record) => record.pod.name).sort();

test('the broker killed and restarted while pods change: nothing lost, nothing written twice', async (t) => {
  for (const name of ['web-a', 'web-b']) scene.api.addPod(selected(name));
  const publisher = scene.start(['--sink', 'nats', ...natsFlags(), '--leader-elect=false', '--orphan-grace', '0s'], {}, { cmdb: false });
  const consumer = scene.start(['--source', 'nats', ...natsFlags()], {}, { command: 'consume' });
  for (const each of [publisher, consumer]) assert.ok(await untilReady(each), each.stderr());
  assert.ok(await waitFor(() => names().join() === 'web-a,web-b', 15_000), consumer.stderr());

  await nats.stop();
  for (const name of ['web-c', 'web-d']) scene.api.addPod(selected(name));
  scene.api.deletePod('shop', 'web-a', 0);
  await sleep(DOWN_MS);
  const before = scene.cmdb.writes().length;
  await nats.start();
  const backAt = performance.now();
  assert.ok(await waitFor(() => names().join() === 'web-b,web-c,web-d' && scene.cmdb.records.size === 3, 25_000), JSON.stringify(names()) + publisher.stderr().slice(-3000));
  const tookMs = performance.now() - backAt;

  const writes = scene.cmdb.writes();
  const paths = writes.map((entry) => `${entry.method} ${entry.path}`);
  assert.equal(before, 2, 'nothing reached the CMDB while the broker was down but the first two registrations');
  assert.equal(writes.filter((entry) => entry.method === 'PUT').length, 4, paths.join('\n'));
  assert.equal(writes.filter((entry) => entry.method === 'DELETE').length, 1, paths.join('\n'));
  assert.equal(new Set(paths).size, paths.length, 'no record written twice');
  t.diagnostic(`broker down ${DOWN_MS} ms; converged ${Math.round(tookMs)} ms after it was back`);
  for (const each of [publisher, consumer]) assert.equal(await each.stop(), 0, each.stderr());
});

test('--once --sink nats: one pass published, its inventory with it, then exit 0', async () => {
  const once = scene.start(['--sink', 'nats', ...natsFlags(), '--once', '--log-level', 'debug'], {}, { cmdb: false });
  assert.equal(await once.exited, 0, once.stderr());
  assert.match(once.stderr(), /\d+ action\(s\) done in/);
  assert.ok(once.logs().some((line) => line.msg === 'inventory published' && line.ids === 3), once.stderr());
});
