// The queue path end to end on a real rabbitmq-server: the Kubernetes API stand-in as the source, `cmdb-hook
// controller --sink rabbitmq`, two `cmdb-hook consume --source rabbitmq` sharing the queue, the sandbox CMDB at the
// end. Asserted on the CMDB's final state and its request log. Each test has its own exchange and queue on the one
// broker, and its own pods. The AMQP password is checked in every process's argv and output.
// The CMDB outage lasts 60 s, as the issue names it: the consumer's backoff doubles from 200 ms up to 30 s, so each
// waiting message is tried at most ~9 times in it, and the next try after the CMDB is back comes within 30 s.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import amqp from 'amqplib';
import { waitFor } from '../support/controller/controller-run.ts';
import { startSandboxCmdb, type SandboxCmdb } from '../support/sandbox-cmdb.ts';
import { caughtUp, liveIn, logged, readyOrFail, selected, startRabbitScene, type RabbitScene } from './sink-rabbitmq-support.ts';

const OUTAGE_MS = 60_000;

let rabbit: RabbitScene;
let reopened: SandboxCmdb | undefined;
const file = join(mkdtempSync(join(tmpdir(), 'cmdb-hook-sink-amqp-')), 'records.json');
before(async () => {
  rabbit = await startRabbitScene({ cmdb: { file } });
});
after(async () => {
  await rabbit.close();
  await reopened?.close();
});

const live = (prefix: string) => liveIn(rabbit.scene, prefix);
const writesOf = (prefix: string, from = 0) => rabbit.scene.cmdb.writes().slice(from).filter((entry) => {
  const id = decodeURIComponent(entry.path.split('/').pop() ?? '');
  return entry.method === 'DELETE' ? ids.get(id)?.startsWith(prefix) : (JSON.parse(entry.body) as { pod: { name: string } }).pod.name.startsWith(prefix);
});
// Record id -> pod name, remembered from the writes, so a DELETE (no body) can be told apart by test.
const ids = new Map<string, string>();
function remember(): void {
  for (const entry of rabbit.scene.cmdb.writes()) if (entry.method === 'PUT') ids.set(decodeURIComponent(entry.path.split('/').pop() ?? ''), (JSON.parse(entry.body) as { pod: { name: string } }).pod.name);
}





test('a rollout, a scale-down, a container restart and a readiness flap: each record registered once, removed once, nothing else', async (t) => {
  const flags = rabbit.amqpFlags();
  for (const name of ['roll-a', 'roll-b', 'roll-c']) rabbit.scene.api.addPod(selected(name));
  const publisher = rabbit.start('publish', flags);
  const consumers = [rabbit.start('consume', flags)];
  await readyOrFail(publisher, ...consumers);
  // The second consumer stands by (single active consumer) until the first goes away.
  consumers.push(rabbit.start('consume', flags));
  await readyOrFail(consumers[1]!);
  assert.ok(await waitFor(() => live('roll-').join() === 'roll-a,roll-b,roll-c', 20_000), consumers[0]!.stderr());

  // The rollout: new pods come, the old ones go one by one (as maxSurge 1, maxUnavailable 0 would); then a
  // scale-down by one. (Never more than half at once: the controller refuses that as a likely broken list.)
  for (const [fresh, old] of [['roll-d', 'roll-a'], ['roll-e', 'roll-b'], ['roll-f', 'roll-c']] as const) {
    rabbit.scene.api.addPod(selected(fresh));
    assert.ok(await waitFor(() => live('roll-').includes(fresh), 20_000), consumers[0]!.stderr());
    rabbit.scene.api.deletePod('shop', old, 0);
    assert.ok(await waitFor(() => !live('roll-').includes(old), 20_000), publisher.stderr().slice(-3000));
  }
  // Inside roll-e: its container restarts (not ready, restartCount 1), then is ready again.
  rabbit.scene.api.modifyPod('shop', 'roll-e', (pod) => {
    for (const status of (pod.status as { containerStatuses: { ready: boolean; restartCount: number }[] }).containerStatuses) {
      status.ready = false;
      status.restartCount += 1;
    }
  });
  await sleep(300);
  rabbit.scene.api.modifyPod('shop', 'roll-e', (pod) => {
    for (const status of (pod.status as { containerStatuses: { ready: boolean }[] }).containerStatuses) status.ready = true;
  });
  rabbit.scene.api.deletePod('shop', 'roll-f', 0);
  assert.ok(await waitFor(() => live('roll-').join() === 'roll-d,roll-e', 20_000), JSON.stringify(live('roll-')) + publisher.stderr().slice(-4000));
  await sleep(1500); // anything late would show now
  remember();

  const writes = writesOf('roll-');
  const paths = writes.map((entry) => `${entry.method} ${entry.path}`);
  assert.equal(writes.filter((entry) => entry.method === 'PUT').length, 6, paths.join('\n'));
  assert.equal(writes.filter((entry) => entry.method === 'DELETE').length, 4, paths.join('\n'));
  assert.equal(new Set(paths).size, paths.length, 'no record written twice');
  assert.deepEqual(live('roll-'), ['roll-d', 'roll-e']);
  const ended = logged(publisher, /deregistered published/).map((line) => String(line.id));
  assert.ok(ended.every((id) => ids.get(id) !== 'roll-e'), 'the restart and the flap published no deregistration of roll-e');
  assert.equal(logged(consumers[1]!, /registered|deleted/).length, 0, 'the standby consumer applied nothing');
  t.diagnostic(`${writes.length} CMDB writes for 6 records`);
  await rabbit.stopAll(publisher, ...consumers);
});

test('two publishers at once: the right final state', async (t) => {
  const flags = rabbit.amqpFlags();
  const mark = rabbit.scene.cmdb.writes().length;
  for (const name of ['pair-a', 'pair-b', 'pair-c']) rabbit.scene.api.addPod(selected(name));
  const publishers = [rabbit.start('publish', flags), rabbit.start('publish', flags)];
  const consumer = rabbit.start('consume', flags);
  await readyOrFail(...publishers, consumer);
  assert.ok(await waitFor(() => live('pair-').join() === 'pair-a,pair-b,pair-c', 20_000), consumer.stderr());
  rabbit.scene.api.deletePod('shop', 'pair-a', 0);
  rabbit.scene.api.addPod(selected('pair-d'));
  assert.ok(await waitFor(() => live('pair-').join() === 'pair-b,pair-c,pair-d', 20_000), consumer.stderr());
  await sleep(1500);
  remember();
  assert.deepEqual(live('pair-'), ['pair-b', 'pair-c', 'pair-d'], 'the second publisher\'s copies changed nothing');
  const published = publishers.flatMap((each) => logged(each, /published/)).length;
  const writes = writesOf('pair-', mark).length;
  t.diagnostic(`${published} publishes by two publishers, ${writes} CMDB writes (5 transitions; RabbitMQ keeps every copy, the consumer skips those it applied)`);
  await rabbit.stopAll(...publishers, consumer);
});

test('the CMDB down: the backlog drains afterwards, nothing lost, no hot loop', async (t) => {
  const flags = rabbit.amqpFlags();
  for (const name of ['down-a', 'down-b']) rabbit.scene.api.addPod(selected(name));
  const publisher = rabbit.start('publish', flags);
  const consumer = rabbit.start('consume', flags);
  await readyOrFail(publisher, consumer);
  assert.ok(await waitFor(() => live('down-').join() === 'down-a,down-b', 20_000), consumer.stderr());
  // The publisher's first pass also sends the pods of the tests before: all written (or found written) before the
  // outage starts.
  assert.ok(await waitFor(() => caughtUp(consumer, rabbit.scene.cmdb.records.size), 20_000), consumer.stderr());
  remember();

  const port = Number(new URL(rabbit.scene.cmdb.origin).port);
  await rabbit.scene.cmdb.close();
  for (const name of ['down-c', 'down-d', 'down-e']) rabbit.scene.api.addPod(selected(name));
  rabbit.scene.api.deletePod('shop', 'down-a', 0);
  await sleep(OUTAGE_MS);
  reopened = await startSandboxCmdb({ port, file });
  rabbit.scene.cmdb = reopened;
  const backAt = performance.now();
  assert.ok(await waitFor(() => live('down-').join() === 'down-b,down-c,down-d,down-e' && [...rabbit.scene.cmdb.records.values()].every((record) => record.pod.name !== 'down-a'), 60_000), JSON.stringify(live('down-')) + consumer.stderr().slice(-3000));
  const tookMs = performance.now() - backAt;
  const retried = logged(consumer, /the CMDB failed; the message comes again/).length;
  assert.ok(retried > 0, 'the consumer saw the outage and retried');
  // No hot loop: the backoff doubles from 200 ms (0.2 + 0.4 + ... + 25.6 s = 51 s at the least), so each of the 4
  // waiting messages is tried at most 9 times in the outage, and once more after it.
  assert.ok(retried <= 4 * 10, `${retried} retries in ${OUTAGE_MS} ms for 4 messages`);
  const writes = rabbit.scene.cmdb.writes();
  // The publisher also sent the pods of the tests before (its first pass finds them): only this test's are counted.
  assert.equal(writes.filter((entry) => entry.method === 'PUT' && (JSON.parse(entry.body) as { pod: { name: string } }).pod.name.startsWith('down-')).length, 3, 'the sandbox started again: three registrations, once each');
  assert.equal(writes.filter((entry) => entry.method === 'DELETE').length, 1);
  t.diagnostic(`${retried} retries during ${OUTAGE_MS} ms; converged ${Math.round(tookMs)} ms after the CMDB came back`);
  await rabbit.stopAll(publisher, consumer);
});

test('a poison message: dead-lettered with one log line, kept in the dead-letter queue, the rest flows', async () => {
  const flags = rabbit.amqpFlags();
  const queue = flags[flags.indexOf('--amqp-queue') + 1]!;
  const exchange = flags[flags.indexOf('--amqp-exchange') + 1]!;
  const publisher = rabbit.start('publish', flags);
  const consumer = rabbit.start('consume', flags);
  await readyOrFail(publisher, consumer);
  const connection = await amqp.connect({ protocol: 'amqp', hostname: '127.0.0.1', port: rabbit.broker.port, username: rabbit.broker.username, password: rabbit.broker.password, vhost: '/' });
  try {
    const channel = await connection.createConfirmChannel();
    channel.publish(exchange, 'cmdb-hook.scene.record.0b6a1c1e-2222-4222-8333-944455556666_app', Buffer.from('not json'), { messageId: 'poison-1', persistent: true });
    await channel.waitForConfirms();
    rabbit.scene.api.addPod(selected('poison-ok'));
    assert.ok(await waitFor(() => live('poison-').includes('poison-ok'), 20_000), consumer.stderr());
    assert.ok(await waitFor(() => logged(consumer, /dead-lettered/).length > 0, 5_000), consumer.stderr());
    assert.deepEqual(logged(consumer, /dead-lettered/).map((line) => line.msg), [`message dead-lettered into ${queue}.dead-letter: the body is not JSON (8 bytes)`]);
    const dead = await channel.get(`${queue}.dead-letter`, { noAck: true });
    assert.ok(dead && dead.properties.messageId === 'poison-1' && dead.content.toString() === 'not json', 'an operator finds it in the dead-letter queue');
  } finally {
    await connection.close();
  }
  await rabbit.stopAll(publisher, consumer);
});
