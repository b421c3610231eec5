// The RabbitMQ transport against a real rabbitmq-server (one per file: it takes seconds to boot). Each test uses its
// own exchange and queue names. Timing is asserted only as bounds with wide margins.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { ConfigError } from '../../src/errors.ts';
import { BrokerUnavailableError } from '../../src/queue/broker-errors.ts';
import type amqp from 'amqplib';
import type { Delivery, Verdict } from '../../src/queue/transport.ts';
import { startRabbitMq, type RabbitMqServer } from '../support/brokers/rabbitmq-server.ts';
import { WARN } from '../support/capture-log.ts';
import { makeCertificates, type Certificates } from '../support/certificates.ts';
import { inspector, messageOf, secretFile, transportOf, uniqueName, until } from './rabbitmq-support.ts';

let server: RabbitMqServer;
let certs: Certificates;
before(async () => {
  certs = makeCertificates();
  const pem = (name: string, text: string) => {
    writeFileSync(join(certs.dir, name), text);
    return join(certs.dir, name);
  };
  server = await startRabbitMq({ tls: { certFile: pem('broker.crt', certs.serverCert), keyFile: pem('broker.key', certs.serverKey), caFile: certs.caFile } });
  console.log(`rabbitmq-server accepted AMQP after ${Math.round(server.lastStartMs)} ms`);
});
after(() => server?.close());

const within = (ms: number) => AbortSignal.timeout(ms);

test('declare twice is idempotent, and what was published before any consumer waits in the queue', async (t) => {
  const names = { exchange: uniqueName('x'), queue: uniqueName('q') };
  const { transport: first } = transportOf(t, server, names);
  await first.declare(within(10_000));
  await first.publisher().publish(messageOf(1), within(10_000));
  const { transport: second } = transportOf(t, server, names);
  await second.declare(within(10_000));
  await first.declare(within(10_000));

  const look = await inspector(t, server);
  const channel = await look.channel();
  assert.equal((await channel.checkQueue(names.queue)).messageCount, 1);
  assert.equal((await channel.checkQueue(`${names.queue}.dead-letter`)).messageCount, 0);
  await channel.checkExchange(`${names.queue}.dead-letter`);
  // At-least-once dead-lettering took. Without reject-publish overflow the broker accepts the queue but logs that it
  // falls back to at-most-once, as a control queue declared that way shows.
  const control = uniqueName('control');
  await channel.assertQueue(control, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': 'dlx', 'x-dead-letter-strategy': 'at-least-once' } });
  const brokerLog = () => readdirSync(join(server.dir, 'log')).map((file) => readFileSync(join(server.dir, 'log', file), 'utf8')).join('');
  const fallback = (queue: string) => `Falling back to dead-letter-strategy at-most-once for queue '${queue}'`;
  await until('the control queue\'s fallback in the broker log', () => brokerLog().includes(fallback(control)), 10_000);
  assert.match(brokerLog(), new RegExp(`queue '${names.queue}' in vhost '/': candidate -> leader`));
  assert.ok(!brokerLog().includes(fallback(names.queue)));
});

test('a queue or exchange that exists with other settings is one clear config error naming the setting', async (t) => {
  const look = await inspector(t, server);
  const queue = uniqueName('q');
  await (await look.channel()).assertQueue(queue, { durable: true }); // a classic queue, not a quorum one
  const { transport } = transportOf(t, server, { exchange: uniqueName('x'), queue });
  const error = await transport.declare(within(10_000)).then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof ConfigError, String(error));
  assert.match(error.message, new RegExp(`queue "${queue}" exists on amqp://cmdb-hook@127\\.0\\.0\\.1:\\d+/ with other settings`));
  assert.match(error.message, /inequivalent arg/);
  assert.match(error.message, /--amqp-queue \(CMDB_HOOK_AMQP_QUEUE\)/);

  const exchange = uniqueName('x');
  await (await look.channel()).assertExchange(exchange, 'fanout', { durable: true });
  const { transport: other } = transportOf(t, server, { exchange, queue: uniqueName('q') });
  await assert.rejects(other.declare(within(10_000)), (caught: unknown) =>
    caught instanceof ConfigError && /exchange ".*" exists .* with other settings .*--amqp-exchange \(CMDB_HOOK_AMQP_EXCHANGE\)/.test(caught.message));
});

test('publish resolves on the broker\'s confirm: the message is in the queue, persistent, with its id, type and routing key', async (t) => {
  const names = { exchange: uniqueName('x'), queue: uniqueName('q') };
  const { transport } = transportOf(t, server, names);
  await transport.declare(within(10_000));
  const publisher = transport.publisher();
  await publisher.publish(messageOf(0), within(10_000)); // the channel opens on the first publish
  const latencies: number[] = [];
  for (let n = 1; n <= 200; n++) {
    const began = performance.now();
    assert.deepEqual(await publisher.publish(messageOf(n), within(10_000)), { duplicate: false });
    latencies.push(performance.now() - began);
  }
  latencies.sort((a, b) => a - b);
  console.log(`publish until confirm, 200 in a row: p50 ${latencies[100]?.toFixed(1)} ms, p99 ${latencies[198]?.toFixed(1)} ms`);

  const channel = await (await inspector(t, server)).channel();
  assert.equal((await channel.checkQueue(names.queue)).messageCount, 201);
  // basic.get is refused on a queue with a single active consumer: the first delivery of a consumer instead.
  const got = await new Promise<amqp.ConsumeMessage>((resolve) => void channel.consume(names.queue, (message) => message && resolve(message), { noAck: false }));
  await channel.close();
  assert.equal(got.properties.messageId, 'event-0');
  assert.equal(got.properties.type, 'io.cmdb-hook.container.registered');
  assert.equal(got.properties.deliveryMode, 2);
  assert.equal(got.fields.routingKey, 'cmdb-hook.test.record.ns/pod-0/app');
  assert.deepEqual(JSON.parse(got.content.toString()), { n: 0 });
});

test('a consumer whose queue exists with other settings ends with that config error instead of waiting forever', async (t) => {
  const queue = uniqueName('q');
  await (await (await inspector(t, server)).channel()).assertQueue(queue, { durable: true });
  const { transport } = transportOf(t, server, { exchange: uniqueName('x'), queue });
  const handled: unknown[] = [];
  await assert.rejects(transport.consumer({ concurrency: 1 }).run((delivery) => {
    handled.push(delivery);
    return Promise.resolve({ kind: 'ack' });
  }, within(20_000)), (caught: unknown) => caught instanceof ConfigError && /--amqp-queue/.test(caught.message));
  assert.deepEqual(handled, []);
});

test('publishing to an exchange that does not exist is refused at once, saying so, not retried in a loop', async (t) => {
  const { transport, logged } = transportOf(t, server, { exchange: uniqueName('x'), queue: uniqueName('q') });
  const began = performance.now();
  await assert.rejects(transport.publisher().publish(messageOf(1), within(10_000)), (caught: unknown) =>
    caught instanceof BrokerUnavailableError && /refused message event-1 on exchange ".*": 404 \(NOT-FOUND\).*no exchange.*declare it first/.test(caught.message));
  assert.ok(performance.now() - began < 5000);
  assert.equal(logged.at(WARN).filter((line) => line.msg === 'the broker closed the publishing channel').length, 1);
});

test('a message no queue takes is refused, never reported as sent', async (t) => {
  const exchange = uniqueName('x');
  await (await (await inspector(t, server)).channel()).assertExchange(exchange, 'topic', { durable: true });
  // The exchange exists but nothing is bound for cluster "elsewhere".
  const { transport } = transportOf(t, server, { exchange, queue: uniqueName('q'), cluster: 'elsewhere' });
  await assert.rejects(transport.publisher().publish(messageOf(1), within(10_000)), (caught: unknown) =>
    caught instanceof BrokerUnavailableError && /routed message event-1 \(cmdb-hook\.elsewhere\.record\.ns\/pod-1\/app\) to no queue \(NO_ROUTE\)/.test(caught.message));
});

test('consume: ack is done; retry comes back after the delay with delivery count 2; dead lands in the dead-letter queue with a log line', async (t) => {
  const names = { exchange: uniqueName('x'), queue: uniqueName('q') };
  const { transport, logged } = transportOf(t, server, names);
  await transport.declare(within(10_000));
  const publisher = transport.publisher();
  await publisher.publish(messageOf(1, 'ack-me'), within(10_000));
  await publisher.publish(messageOf(2, 'retry-once'), within(10_000));
  await publisher.publish(messageOf(3, 'poison'), within(10_000));

  const seen: { key: string; count: number; at: number }[] = [];
  const handle = (delivery: Delivery): Promise<Verdict> => {
    const { key } = delivery.message;
    seen.push({ key, count: delivery.deliveryCount, at: performance.now() });
    if (key === 'retry-once' && delivery.deliveryCount === 1) return Promise.resolve({ kind: 'retry', delayMs: 600 });
    if (key === 'poison') return Promise.resolve({ kind: 'dead', reason: 'the body is not a CloudEvent' });
    return Promise.resolve({ kind: 'ack' });
  };
  const stop = new AbortController();
  const running = transport.consumer({ concurrency: 4 }).run(handle, stop.signal);
  await until('the retried message again', () => seen.filter((s) => s.key === 'retry-once').length === 2);
  await sleep(300); // time for a wrong redelivery of the others to show
  stop.abort();
  await running;

  const of = (key: string) => seen.filter((s) => s.key === key);
  assert.deepEqual(of('ack-me').map((s) => s.count), [1]);
  assert.deepEqual(of('poison').map((s) => s.count), [1]);
  const [first, second] = of('retry-once');
  assert.deepEqual([first?.count, second?.count], [1, 2]);
  assert.ok(second!.at - first!.at >= 550, `redelivered after ${second!.at - first!.at} ms`);

  const channel = await (await inspector(t, server)).channel();
  assert.equal((await channel.checkQueue(names.queue)).messageCount, 0);
  const dead = await channel.get(`${names.queue}.dead-letter`, { noAck: true });
  assert.ok(dead);
  assert.equal(dead.properties.messageId, 'event-3');
  assert.equal(dead.properties.headers?.['x-first-death-reason'], 'rejected');
  assert.equal(dead.properties.headers?.['x-first-death-queue'], names.queue);
  const lines = logged.at(WARN).filter((line) => line.msg.includes('dead-letter'));
  assert.equal(lines.length, 1);
  assert.equal(lines[0]?.msg, `message dead-lettered into ${names.queue}.dead-letter: the body is not a CloudEvent`);
  assert.equal(lines[0]?.id, 'event-3');
});

test('a message retried again and again is redelivered at the pace of its delay, never in a hot loop', async (t) => {
  const names = { exchange: uniqueName('x'), queue: uniqueName('q') };
  const { transport } = transportOf(t, server, names);
  await transport.declare(within(10_000));
  await transport.publisher().publish(messageOf(1), within(10_000));
  const counts: number[] = [];
  const stop = new AbortController();
  const began = performance.now();
  const running = transport.consumer({ concurrency: 1 }).run((delivery) => {
    counts.push(delivery.deliveryCount);
    return Promise.resolve({ kind: 'retry', delayMs: 400 });
  }, stop.signal);
  await sleep(2000);
  stop.abort();
  await running;
  const elapsed = performance.now() - began;
  // One delivery per 400 ms at most: about 5 in 2 s (a hot loop would make thousands).
  assert.ok(counts.length >= 2 && counts.length <= Math.ceil(elapsed / 400) + 1, `${counts.length} deliveries in ${elapsed} ms`);
  assert.deepEqual(counts, counts.map((_, i) => i + 1));
  // Stopping handed the held message back: it is still in the queue.
  const channel = await (await inspector(t, server)).channel();
  await until('the message back in the queue', async () => (await channel.checkQueue(names.queue)).messageCount === 1, 5000);
});

test('a wrong password is one config error that names the user and the password file, never the password', async (t) => {
  const { transport } = transportOf(t, server, { exchange: uniqueName('x'), queue: uniqueName('q'), passwordFile: secretFile('not-the-password') });
  const error = await transport.declare(within(20_000)).then(() => undefined, (caught: unknown) => caught);
  assert.ok(error instanceof ConfigError, String(error));
  assert.match(error.message, /refused the login of user "cmdb-hook"/);
  assert.match(error.message, /ACCESS_REFUSED/);
  assert.match(error.message, /--amqp-password-file \(CMDB_HOOK_AMQP_PASSWORD_FILE\)/);
  assert.doesNotMatch(error.message, /not-the-password/);
});

test('amqps with --amqp-ca-file: the broker\'s certificate is checked against that CA; another CA is one config error', async (t) => {
  const names = { exchange: uniqueName('x'), queue: uniqueName('q') };
  const url = `amqps://${server.username}@127.0.0.1:${server.tlsPort}/`;
  const { transport } = transportOf(t, server, { ...names, url, caFile: certs.caFile });
  await transport.declare(within(10_000));
  await transport.publisher().publish(messageOf(1), within(10_000));
  const channel = await (await inspector(t, server)).channel();
  assert.equal((await channel.checkQueue(names.queue)).messageCount, 1);

  const { transport: wrong } = transportOf(t, server, { ...names, url, caFile: certs.otherCaFile });
  const began = performance.now();
  await assert.rejects(wrong.declare(within(20_000)), (caught: unknown) =>
    caught instanceof ConfigError && /amqps:\/\/cmdb-hook@127\.0\.0\.1:\d+\/: the broker's certificate was not accepted \(\w+\); check --amqp-ca-file \(CMDB_HOOK_AMQP_CA_FILE\)/.test(caught.message));
  assert.ok(performance.now() - began < 10_000, 'refused at once, not retried until the deadline');
});
