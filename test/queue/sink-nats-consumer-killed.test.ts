// A consumer killed between its CMDB write and its ack: the CMDB took the registration, but the ack never reached
// nats-server (the consumer talks to it through a proxy that stops letting its bytes through as the write lands,
// then the consumer is SIGKILLed). JetStream redelivers the message after the durable's ack wait (30 s, the
// default: nothing shorter can be set from outside, the consumer side sets it) to the next consumer, which applies
// it again; the CMDB ends right, and the durable holds nothing unacknowledged.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { startNatsServer, type NatsServer } from '../support/brokers/nats-server.ts';
import { startTcpProxy, type TcpProxy } from '../support/brokers/tcp-proxy.ts';
import { SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';
import { uidOf } from '../support/controller/observe.ts';
import { admin } from './nats-support.ts';

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
const natsFlags = (url = nats.url) => ['--nats-url', url, '--nats-token-file', nats.tokenFile];
const names = () => [...scene.cmdb.records.values()].filter((record) => record.state === 'ready').map((record) => record.pod.name).sort();

async function durable() {
  const { jsm, connection } = await admin(nats);
  try {
    return await jsm.consumers.info('CMDB_HOOK', 'cmdb-hook');
  } finally {
    await connection.close();
  }
}

test('a consumer killed between its CMDB write and its ack: redelivered to the next one, the CMDB ends right', async (t) => {
  const publisher = scene.start(['--sink', 'nats', ...natsFlags(), '--leader-elect=false'], {}, { cmdb: false });
  const first = scene.start(['--source', 'nats', ...natsFlags(proxy.url('nats')), '--log-level', 'debug'], {}, { command: 'consume' });
  for (const each of [publisher, first]) assert.ok(await untilReady(each), each.stderr());

  // The CMDB answers the first write 1.5 s late: the window in which the proxy stops the consumer's traffic.
  scene.cmdb.injectFault({ method: 'PUT', delayMs: 1500 });
  scene.api.addPod(selected('web-a'));
  const id = `${uidOf(scene.api, 'shop', 'web-a')}_app`;
  assert.ok(await waitFor(() => scene.cmdb.requests.some((request) => request.method === 'PUT' && request.path.endsWith(id)), 15_000), first.stderr());
  proxy.hold();
  assert.ok(await waitFor(() => first.logs().some((line) => typeof line.msg === 'string' && line.msg.startsWith(`record ${id} registered`)), 10_000), first.stderr());
  first.child.kill('SIGKILL');
  await first.exited;
  proxy.drop();
  assert.deepEqual(names(), ['web-a'], 'the write landed');
  const unacked = await durable();
  assert.equal(unacked.num_ack_pending, 1, 'the broker never got the ack');

  // While no consumer runs, another pod comes; then the next consumer starts.
  scene.api.addPod(selected('web-b'));
  const second = scene.start(['--source', 'nats', ...natsFlags(), '--log-level', 'debug'], {}, { command: 'consume' });
  assert.ok(await untilReady(second), second.stderr());
  assert.ok(await waitFor(() => names().join() === 'web-a,web-b', 10_000), second.stderr());
  const redelivered = () => second.logs().some((line) => typeof line.msg === 'string' && line.msg.startsWith(`record ${id} registered`));
  assert.ok(await waitFor(redelivered, 45_000), `web-a's registration came again\n${second.stderr()}`);
  // The redelivered message is acknowledged once its write landed.
  let settled = await durable();
  for (const until = performance.now() + 5000; settled.num_ack_pending > 0 && performance.now() < until; ) {
    await sleep(100);
    settled = await durable();
  }
  assert.equal(settled.num_ack_pending, 0, 'nothing left unacknowledged');
  assert.equal(settled.num_pending, 0, 'nothing left undelivered');
  // Deliveries counted by the durable against messages stored: exactly one message went out twice.
  assert.equal(settled.delivered.consumer_seq, settled.delivered.stream_seq + 1, `one redelivery: ${JSON.stringify(settled.delivered)}`);

  const puts = (name: string) => scene.cmdb.writes().filter((entry) => entry.method === 'PUT' && entry.body.includes(`"name":"${name}"`)).length;
  assert.equal(puts('web-a'), 2, 'web-a written by the killed consumer, and again on the redelivery');
  assert.equal(puts('web-b'), 1);
  assert.equal(scene.cmdb.writes().filter((entry) => entry.method === 'DELETE').length, 0);
  const record = scene.cmdb.records.get(id);
  assert.equal(record?.state, 'ready');
  assert.equal(record?.pod.uid, uidOf(scene.api, 'shop', 'web-a'));
  t.diagnostic(`${settled.delivered.consumer_seq} deliveries of ${settled.delivered.stream_seq} stored messages`);
  for (const each of [publisher, second]) assert.equal(await each.stop(), 0, each.stderr());
});
