// The broker goes away under a running publisher and consumer, and comes back on the same port: nothing confirmed is
// lost, publishes wait for it (a bounded number of them), consuming resumes on its own. A real rabbitmq-server,
// killed with SIGKILL (a crash) or stopped; one per file, since it restarts.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrokerUnavailableError } from '../../src/queue/rabbitmq/amqp-errors.ts';
import { startRabbitMq, type RabbitMqServer } from '../support/brokers/rabbitmq-server.ts';
import { WARN, INFO } from '../support/capture-log.ts';
import { messageOf, transportOf, uniqueName, until } from './rabbitmq-support.ts';

let server: RabbitMqServer;
before(async () => {
  server = await startRabbitMq();
});
after(() => server?.close());

test('the broker killed mid-stream and restarted: every confirmed message is consumed, publishing and consuming resume by themselves', async (t) => {
  const names = { exchange: uniqueName('x'), queue: uniqueName('q') };
  const { transport, logged } = transportOf(t, server, names);
  await transport.declare(AbortSignal.timeout(10_000));
  const consumed = new Map<string, number>();
  const stop = new AbortController();
  const consuming = transport.consumer({ concurrency: 8 }).run((delivery) => {
    consumed.set(delivery.message.id, (consumed.get(delivery.message.id) ?? 0) + 1);
    return Promise.resolve({ kind: 'ack' });
  }, stop.signal);

  const publisher = transport.publisher();
  const total = 300;
  const confirmed: string[] = [];
  const publishing = (async () => {
    for (let n = 0; n < total; n++) {
      const message = messageOf(n);
      await publisher.publish(message, AbortSignal.timeout(90_000));
      confirmed.push(message.id);
      await sleep(5);
    }
  })();
  await until('a third published', () => confirmed.length >= total / 3);
  await server.kill();
  const killedAt = confirmed.length;
  await sleep(500);
  const downFor = performance.now();
  await server.start();
  console.log(`restarted after SIGKILL in ${Math.round(performance.now() - downFor)} ms`);
  await publishing;
  await until('every message consumed', () => confirmed.every((id) => consumed.has(id)), 60_000);
  stop.abort();
  await consuming;

  assert.ok(killedAt < total, 'the broker died while messages were still being published');
  assert.equal(confirmed.length, total);
  assert.deepEqual(confirmed.filter((id) => !consumed.has(id)), []);
  const twice = [...consumed.values()].filter((count) => count > 1).length;
  console.log(`${total} published across a broker crash; ${twice} consumed more than once (at-least-once; no broker-side deduplication)`);
  assert.ok(logged.at(WARN).some((line) => line.msg === 'lost the connection to the broker; reconnecting'));
  assert.ok(logged.at(INFO).some((line) => line.msg === 'reconnected to the broker'));
});

test('while the broker is down, publishes wait for it up to a bound; beyond it they are refused at once', async (t) => {
  const names = { exchange: uniqueName('x'), queue: uniqueName('q') };
  const { transport } = transportOf(t, server, { ...names, maxWaitingPublishes: 2 });
  await transport.declare(AbortSignal.timeout(10_000));
  const publisher = transport.publisher();
  await publisher.publish(messageOf(0), AbortSignal.timeout(10_000));
  await server.stop();
  await sleep(200); // the client sees the connection close
  const waiting = [publisher.publish(messageOf(1), AbortSignal.timeout(90_000)), publisher.publish(messageOf(2), AbortSignal.timeout(90_000))];
  const settled = [false, false];
  waiting.forEach((pending, i) => void pending.then(() => (settled[i] = true), () => (settled[i] = true)));
  await sleep(100);
  await assert.rejects(publisher.publish(messageOf(3), AbortSignal.timeout(90_000)), (error: unknown) =>
    error instanceof BrokerUnavailableError && /is unreachable and 2 messages already wait for it/.test(error.message));
  assert.deepEqual(settled, [false, false], 'nothing resolves before the broker is back');

  await server.start();
  await Promise.all(waiting);
  const { transport: reader } = transportOf(t, server, names);
  const ids: string[] = [];
  const stop = new AbortController();
  const consuming = reader.consumer({ concurrency: 4 }).run((delivery) => {
    ids.push(delivery.message.id);
    return Promise.resolve({ kind: 'ack' });
  }, stop.signal);
  await until('three messages consumed', () => new Set(ids).size >= 3, 20_000);
  stop.abort();
  await consuming;
  assert.deepEqual([...new Set(ids)].sort(), ['event-0', 'event-1', 'event-2']);
});
