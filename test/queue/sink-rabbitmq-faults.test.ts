// The queue path on a real rabbitmq-server when things break: the broker stopped and started again mid-stream, a
// consumer killed between its CMDB write and its ack, the publisher cut off from the broker while pods change.
// The Kubernetes API stand-in is the source, the sandbox CMDB the end; asserted on the CMDB's final state and its
// request log. The broker is stopped cleanly, not killed: RabbitMQ 3.10.8 can bring a young quorum queue back
// without a leader after a SIGKILL (see queue/rabbitmq/amqp-connection.ts). The cut lasts 10 s (the issue names
// 60 s): the client's reconnect backoff is capped at 5 s, so from 5 s on a longer cut only adds attempts 5 s apart.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { startRabbitMq, type RabbitMqServer } from '../support/brokers/rabbitmq-server.ts';
import { SELECTED, startScene, untilReady, waitFor, type ControllerProcess, type Scene } from '../support/controller/controller-run.ts';
import { startTcpCut } from '../support/tcp-cut.ts';

const DOWN_MS = 4_000;
const CUT_MS = 10_000;

let scene: Scene;
let broker: RabbitMqServer;
let passwordFile: string;
before(async () => {
  broker = await startRabbitMq();
  passwordFile = join(mkdtempSync(join(tmpdir(), 'cmdb-hook-amqp-')), 'password');
  writeFileSync(passwordFile, `${broker.password}\n`, { mode: 0o600 });
  scene = await startScene();
});
after(async () => {
  await scene.close();
  await broker.close();
});

let topics = 0;
function amqpFlags(url = broker.url): string[] {
  topics++;
  return ['--amqp-url', url, '--amqp-password-file', passwordFile, '--amqp-exchange', `x-${topics}`, '--amqp-queue', `q-${topics}`];
}
const selected = (name: string) => ({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });
const live = (prefix: string) => [...scene.cmdb.records.values()].filter((record) => record.state === 'ready' && record.pod.name.startsWith(prefix)).map((record) => record.pod.name).sort();
const putsOf = (name: string) => scene.cmdb.writes().filter((entry) => entry.method === 'PUT' && (JSON.parse(entry.body) as { pod: { name: string } }).pod.name === name);
const logged = (process: ControllerProcess, pattern: RegExp) => process.logs().filter((line) => typeof line.msg === 'string' && pattern.test(line.msg));

function start(side: 'publish' | 'consume', flags: string[]): ControllerProcess {
  return side === 'publish'
    ? scene.start(['--sink', 'rabbitmq', ...flags, '--leader-elect=false', '--orphan-grace', '0s'], {}, { cmdb: false })
    : scene.start(['--source', 'rabbitmq', ...flags], {}, { command: 'consume' });
}

async function readyOrFail(...processes: ControllerProcess[]): Promise<void> {
  for (const each of processes) assert.ok(await untilReady(each, 60_000), each.stderr());
}

/** Stops each (0 expected unless killed) and checks the AMQP password is in no argv and no output. */
async function stopAll(...processes: ControllerProcess[]): Promise<void> {
  for (const each of processes) {
    const killed = each.child.signalCode === 'SIGKILL';
    const code = await each.stop();
    if (!killed) assert.equal(code, 0, each.stderr());
    assert.ok(!each.stderr().includes(broker.password) && !each.stdout().includes(broker.password), 'the AMQP password shows in no output');
    assert.ok(!each.child.spawnargs.join(' ').includes(broker.password), 'the AMQP password is in no argv');
  }
}

test('the broker stopped and started again while pods change: nothing lost, nothing written twice', async (t) => {
  const flags = amqpFlags();
  for (const name of ['bounce-a', 'bounce-b', 'bounce-c']) scene.api.addPod(selected(name));
  const publisher = start('publish', flags);
  const consumer = start('consume', flags);
  await readyOrFail(publisher, consumer);
  assert.ok(await waitFor(() => live('bounce-').join() === 'bounce-a,bounce-b,bounce-c', 20_000), consumer.stderr());

  await broker.stop();
  for (const name of ['bounce-d', 'bounce-e']) scene.api.addPod(selected(name));
  scene.api.deletePod('shop', 'bounce-a', 0);
  await sleep(DOWN_MS);
  const before = scene.cmdb.writes().length;
  await broker.start();
  const backAt = performance.now();
  assert.ok(await waitFor(() => live('bounce-').join() === 'bounce-b,bounce-c,bounce-d,bounce-e' && ![...scene.cmdb.records.values()].some((record) => record.pod.name === 'bounce-a'), 40_000), JSON.stringify(live('bounce-')) + publisher.stderr().slice(-3000));
  const tookMs = performance.now() - backAt;
  await sleep(1000);
  const paths = scene.cmdb.writes().map((entry) => `${entry.method} ${entry.path}`);
  assert.equal(before, 3, 'nothing reached the CMDB while the broker was down but the first three registrations');
  assert.equal(new Set(paths).size, paths.length, `no record written twice:\n${paths.join('\n')}`);
  t.diagnostic(`broker down ${DOWN_MS} ms (plus its own stop and start: ${Math.round(broker.lastStartMs)} ms); converged ${Math.round(tookMs)} ms after it was back`);
  await stopAll(publisher, consumer);
});

test('a consumer killed between its CMDB write and its ack: the other one gets the message again, the record is right', async (t) => {
  const flags = amqpFlags();
  const publisher = start('publish', flags);
  const first = start('consume', flags);
  await readyOrFail(publisher, first);
  // The second one stands by: the queue has a single active consumer.
  const second = start('consume', flags);
  await readyOrFail(second);
  // The publisher sends every pod it finds, those of the tests before too: all written before the fault is set.
  assert.ok(await waitFor(() => logged(first, /registered:/).length >= scene.cmdb.records.size, 20_000), first.stderr());

  // The CMDB takes the next PUT and applies it 4 s later, answering only then: the consumer dies in between.
  scene.cmdb.injectFault({ method: 'PUT', delayMs: 4000 });
  const published = logged(publisher, /registered published/).length;
  scene.api.addPod(selected('killed-a'));
  assert.ok(await waitFor(() => logged(publisher, /registered published/).length > published, 20_000), publisher.stderr());
  await sleep(1000);
  await first.stop('SIGKILL');
  assert.ok(await waitFor(() => putsOf('killed-a').length >= 2 && live('killed-').includes('killed-a'), 20_000), second.stderr());
  const id = [...scene.cmdb.records.values()].find((record) => record.pod.name === 'killed-a')?.id;
  assert.equal(logged(first, /registered:/).filter((line) => line.id === id).length, 0, 'the first consumer never saw its write answered');
  assert.equal(logged(second, /registered:/).filter((line) => line.id === id).length, 1, second.stderr());
  // The rest flows through the second consumer.
  scene.api.addPod(selected('killed-b'));
  assert.ok(await waitFor(() => live('killed-').join() === 'killed-a,killed-b', 20_000), second.stderr());
  t.diagnostic(`${putsOf('killed-a').length} PUTs of the record whose ack was lost`);
  await stopAll(publisher, first, second);
});

test('the publisher cut off from the broker while pods change: after it reconnects the CMDB converges', async (t) => {
  const relay = await startTcpCut(broker.port);
  try {
    const flags = amqpFlags();
    const relayed = flags.map((flag) => (flag === broker.url ? broker.url.replace(`:${broker.port}/`, `:${relay.port}/`) : flag));
    for (const name of ['cut-a', 'cut-b', 'cut-c']) scene.api.addPod(selected(name));
    const publisher = start('publish', relayed);
    const consumer = start('consume', flags);
    await readyOrFail(publisher, consumer);
    assert.ok(await waitFor(() => live('cut-').join() === 'cut-a,cut-b,cut-c', 20_000), consumer.stderr());

    relay.cut();
    for (const name of ['cut-d', 'cut-e']) scene.api.addPod(selected(name));
    scene.api.deletePod('shop', 'cut-a', 0);
    await sleep(CUT_MS);
    assert.deepEqual(live('cut-'), ['cut-a', 'cut-b', 'cut-c'], 'nothing passed while the publisher was cut off');
    relay.restore();
    const backAt = performance.now();
    assert.ok(await waitFor(() => live('cut-').join() === 'cut-b,cut-c,cut-d,cut-e' && ![...scene.cmdb.records.values()].some((record) => record.pod.name === 'cut-a'), 30_000), JSON.stringify(live('cut-')) + publisher.stderr().slice(-3000));
    assert.ok(logged(publisher, /lost the connection to the broker/).length > 0, 'the publisher saw the cut');
    t.diagnostic(`cut ${CUT_MS} ms; converged ${Math.round(performance.now() - backAt)} ms after the network came back`);
    await stopAll(publisher, consumer);
  } finally {
    await relay.close();
  }
});
