// The queue path on a real rabbitmq-server when things break: the broker killed (SIGKILL) and started again
// mid-stream, a consumer killed between its CMDB write and its ack, the publisher cut off from the broker while pods
// change. The Kubernetes API stand-in is the source, the sandbox CMDB the end; asserted on the CMDB's final state and
// its request log. The broker is killed at least 2 s after the queue was declared: RabbitMQ 3.10.8 loses a
// single-node quorum queue killed within about a second of its declaration (rabbitmq-restart.test.ts). The cut lasts
// 60 s, as the issue names it (the client's reconnect backoff is capped at 5 s: attempts 5 s apart through the cut).
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { waitFor } from '../support/controller/controller-run.ts';
import { startTcpProxy } from '../support/brokers/tcp-proxy.ts';
import { caughtUp, liveIn, logged, readyOrFail, selected, startRabbitScene, type RabbitScene } from './sink-rabbitmq-support.ts';

const DOWN_MS = 4_000;
const CUT_MS = 60_000;

let rabbit: RabbitScene;
before(async () => {
  rabbit = await startRabbitScene();
});
after(() => rabbit.close());

const live = (prefix: string) => liveIn(rabbit.scene, prefix);
const putsOf = (name: string) => rabbit.scene.cmdb.writes().filter((entry) => entry.method === 'PUT' && (JSON.parse(entry.body) as { pod: { name: string } }).pod.name === name);

test('the broker killed (SIGKILL) and started again while pods change: nothing lost, nothing written twice', async (t) => {
  const flags = rabbit.amqpFlags();
  for (const name of ['bounce-a', 'bounce-b', 'bounce-c']) rabbit.scene.api.addPod(selected(name));
  const startedAt = performance.now();
  const publisher = rabbit.start('publish', flags);
  const consumer = rabbit.start('consume', flags);
  await readyOrFail(publisher, consumer);
  assert.ok(await waitFor(() => live('bounce-').join() === 'bounce-a,bounce-b,bounce-c', 20_000), consumer.stderr());

  await sleep(Math.max(0, startedAt + 2_000 - performance.now()));
  await rabbit.broker.kill();
  for (const name of ['bounce-d', 'bounce-e']) rabbit.scene.api.addPod(selected(name));
  rabbit.scene.api.deletePod('shop', 'bounce-a', 0);
  await sleep(DOWN_MS);
  const before = rabbit.scene.cmdb.writes().length;
  await rabbit.broker.start();
  const backAt = performance.now();
  assert.ok(await waitFor(() => live('bounce-').join() === 'bounce-b,bounce-c,bounce-d,bounce-e' && ![...rabbit.scene.cmdb.records.values()].some((record) => record.pod.name === 'bounce-a'), 40_000), JSON.stringify(live('bounce-')) + publisher.stderr().slice(-3000));
  const tookMs = performance.now() - backAt;
  await sleep(1000);
  const paths = rabbit.scene.cmdb.writes().map((entry) => `${entry.method} ${entry.path}`);
  assert.equal(before, 3, 'nothing reached the CMDB while the broker was down but the first three registrations');
  assert.equal(new Set(paths).size, paths.length, `no record written twice:\n${paths.join('\n')}`);
  t.diagnostic(`broker killed, down ${DOWN_MS} ms (plus its own start: ${Math.round(rabbit.broker.lastStartMs)} ms); converged ${Math.round(tookMs)} ms after it was back`);
  await rabbit.stopAll(publisher, consumer);
});

test('a consumer killed between its CMDB write and its ack: the other one gets the message again, the record is right', async (t) => {
  const flags = rabbit.amqpFlags();
  const publisher = rabbit.start('publish', flags);
  const first = rabbit.start('consume', flags);
  await readyOrFail(publisher, first);
  // The second one stands by: the queue has a single active consumer.
  const second = rabbit.start('consume', flags);
  await readyOrFail(second);
  // The publisher sends every pod it finds, those of the tests before too: all written (or found written) before the
  // fault is set.
  assert.ok(await waitFor(() => caughtUp(first, rabbit.scene.cmdb.records.size), 20_000), first.stderr());

  // The CMDB takes the next PUT and applies it 4 s later, answering only then: the consumer dies in between.
  rabbit.scene.cmdb.injectFault({ method: 'PUT', delayMs: 4000 });
  const published = logged(publisher, /registered published/).length;
  rabbit.scene.api.addPod(selected('killed-a'));
  assert.ok(await waitFor(() => logged(publisher, /registered published/).length > published, 20_000), publisher.stderr());
  await sleep(1000);
  await first.stop('SIGKILL');
  const idOf = () => [...rabbit.scene.cmdb.records.values()].find((record) => record.pod.name === 'killed-a')?.id;
  const appliedBy = (process: typeof second) => logged(process, /registered:/).filter((line) => line.id !== undefined && line.id === idOf()).length;
  // The second consumer's log line follows its write's answer: waited for too.
  assert.ok(await waitFor(() => putsOf('killed-a').length >= 2 && live('killed-').includes('killed-a') && appliedBy(second) > 0, 20_000), second.stderr());
  assert.equal(appliedBy(first), 0, 'the first consumer never saw its write answered');
  assert.equal(appliedBy(second), 1, second.stderr());
  // The rest flows through the second consumer.
  rabbit.scene.api.addPod(selected('killed-b'));
  assert.ok(await waitFor(() => live('killed-').join() === 'killed-a,killed-b', 20_000), second.stderr());
  t.diagnostic(`${putsOf('killed-a').length} PUTs of the record whose ack was lost`);
  await rabbit.stopAll(publisher, first, second);
});

test('the publisher cut off from the broker while pods change: after it reconnects the CMDB converges', async (t) => {
  const relay = await startTcpProxy({ port: rabbit.broker.port });
  try {
    const flags = rabbit.amqpFlags();
    const relayed = flags.map((flag) => (flag === rabbit.broker.url ? rabbit.broker.url.replace(`:${rabbit.broker.port}/`, `:${relay.port}/`) : flag));
    for (const name of ['cut-a', 'cut-b', 'cut-c']) rabbit.scene.api.addPod(selected(name));
    const publisher = rabbit.start('publish', relayed);
    const consumer = rabbit.start('consume', flags);
    await readyOrFail(publisher, consumer);
    assert.ok(await waitFor(() => live('cut-').join() === 'cut-a,cut-b,cut-c', 20_000), consumer.stderr());

    relay.cut();
    for (const name of ['cut-d', 'cut-e']) rabbit.scene.api.addPod(selected(name));
    rabbit.scene.api.deletePod('shop', 'cut-a', 0);
    await sleep(CUT_MS);
    assert.deepEqual(live('cut-'), ['cut-a', 'cut-b', 'cut-c'], 'nothing passed while the publisher was cut off');
    relay.restore();
    const backAt = performance.now();
    assert.ok(await waitFor(() => live('cut-').join() === 'cut-b,cut-c,cut-d,cut-e' && ![...rabbit.scene.cmdb.records.values()].some((record) => record.pod.name === 'cut-a'), 30_000), JSON.stringify(live('cut-')) + publisher.stderr().slice(-3000));
    assert.ok(logged(publisher, /lost the connection to the broker/).length > 0, 'the publisher saw the cut');
    t.diagnostic(`cut ${CUT_MS} ms; converged ${Math.round(performance.now() - backAt)} ms after the network came back`);
    await rabbit.stopAll(publisher, consumer);
  } finally {
    await relay.close();
  }
});
