// One record's transitions on RabbitMQ, which has no per-key order among competing consumers and no deduplication:
// two consumers share the queue (single active consumer), one record's transitions arrive out of order and twice
// (a second publisher lagging behind), the CMDB fails now and then, then the active consumer is cut off from the
// broker right after a CMDB write, before its ack. The CMDB must end in the latest transition of every record.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryBackend } from '../../src/cmdb/memory/backend.ts';
import { ConfigError } from '../../src/errors.ts';
import { createApplier } from '../../src/queue/consume/apply-delivery.ts';
import { encodeEvent, transitionEvent, type Transition } from '../../src/queue/event.ts';
import type { CmdbRecord } from '../../src/pod/record.ts';
import type { Delivery, Verdict } from '../../src/queue/transport.ts';
import { startRabbitMq, type RabbitMqServer } from '../support/brokers/rabbitmq-server.ts';
import { captureLog } from '../support/capture-log.ts';
import { startTcpProxy } from '../support/brokers/tcp-proxy.ts';
import { inspector, transportOf, uniqueName, until } from './rabbitmq-support.ts';

let server: RabbitMqServer;
before(async () => {
  server = await startRabbitMq();
});
after(() => server.close());

function recordOf(n: number, version: string, state: CmdbRecord['state'] = 'ready'): CmdbRecord {
  const uid = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return {
    id: `${uid}_app`,
    cluster: 'test',
    namespace: 'shop',
    pod: { name: `web-${n}`, uid, ip: '10.0.0.1', ips: ['10.0.0.1'] },
    container: 'app',
    node: { name: 'node-1', ip: '192.0.2.1' },
    app: 'web',
    labels: { facts: version },
    annotations: {},
    fields: {},
    state,
    observedAt: new Date().toISOString(),
    agent: { name: 'cmdb-hook', version: 'test' },
  };
}

const registered = (n: number, resourceVersion: string): Transition => ({ kind: 'registered', record: recordOf(n, resourceVersion), resourceVersion });
const gone = (n: number): Transition => ({ kind: 'deregistered', record: recordOf(n, 'end', 'terminated') });

test('two consumers, transitions reordered and repeated, a cut before an ack: every record ends in its latest transition', async (t) => {
  const names = { exchange: uniqueName('x'), queue: uniqueName('q') };
  const cmdb = createMemoryBackend();
  const { transport: publishing } = transportOf(t, server, names);
  await publishing.declare(AbortSignal.timeout(10_000));
  const publisher = publishing.publisher();
  const publish = async (transitions: Transition[]) => {
    for (const transition of transitions) {
      const event = transitionEvent(transition);
      await publisher.publish({ id: event.id, key: transition.record.id, type: event.type, body: encodeEvent(event) }, AbortSignal.timeout(10_000));
    }
  };
  // Round 1: pods 0-3 reach version 30, pods 4 and 5 end. A second publisher, behind the first, sends versions 10
  // and 20 again after the first one's: the order two leaders overlapping in a handover give.
  const pods = [0, 1, 2, 3, 4, 5];
  const live = pods.filter((n) => n < 4);
  await publish([
    ...pods.map((n) => registered(n, '10')),
    ...pods.map((n) => registered(n, '20')),
    ...pods.flatMap((n) => [n < 4 ? registered(n, '30') : gone(n), registered(n, '10')]),
    ...pods.map((n) => registered(n, '20')),
  ]);
  cmdb.failNext(3);

  // Consumer 1 reaches the broker through a relay the test cuts; consumer 2 directly. Each has its own applier,
  // as two `cmdb-hook consume` processes would.
  const relay = await startTcpProxy({ port: server.port });
  const consumerOf = (url: string) => {
    const logged = captureLog('debug');
    const { transport } = transportOf(t, server, { ...names, url, logger: logged.log });
    const apply = createApplier({ cluster: 'test', deregisterAction: 'delete', backend: () => cmdb, attemptTimeoutMs: 5000, signal: new AbortController().signal, log: logged.log });
    return { transport, apply };
  };
  const one = consumerOf(server.url.replace(`:${server.port}/`, `:${relay.port}/`));
  const two = consumerOf(server.url);
  const seen: { who: 1 | 2; at: number; delivery: Delivery }[] = [];
  let cutAt = Number.POSITIVE_INFINITY;
  let cutId = '';
  let cutting = false;
  const look = await (await inspector(t, server)).channel();
  const stops = [new AbortController(), new AbortController()];
  const state = () => new Map([...cmdb.records.values()].map((record) => [record.id, record.labels.facts]));
  const settledAt = async (version: string) => {
    const expected = new Map(live.map((n) => [recordOf(n, version).id, version]));
    return JSON.stringify([...state()].sort()) === JSON.stringify([...expected].sort()) && (await look.checkQueue(names.queue)).messageCount === 0;
  };
  const untilSettled = (version: string) => until(`the CMDB at version ${version} of every live record, no other, and the queue empty`, () => settledAt(version), 30_000).catch((error: unknown) => {
    throw new Error(`${(error as Error).message}: ${JSON.stringify([...state()])}; deliveries ${JSON.stringify(seen.map((s) => [s.who, s.delivery.message.id.slice(-6), s.delivery.deliveryCount]))}`);
  });

  try {
    const running1 = one.transport.consumer({ concurrency: 4 }).run(async (delivery): Promise<Verdict> => {
      seen.push({ who: 1, at: performance.now(), delivery });
      const verdict = await one.apply(delivery);
      if (cutting && !Number.isFinite(cutAt) && verdict.kind === 'ack') {
        // Written to the CMDB; the ack never reaches the broker.
        cutId = (JSON.parse(Buffer.from(delivery.message.body).toString()) as { subject: string }).subject;
        cutAt = performance.now();
        relay.cut();
      }
      return verdict;
    }, stops[0]!.signal);
    await until('consumer 1 is active', () => seen.length > 0);
    const running2 = two.transport.consumer({ concurrency: 4 }).run((delivery) => {
      seen.push({ who: 2, at: performance.now(), delivery });
      return two.apply(delivery);
    }, stops[1]!.signal);
    await untilSettled('30');
    // The broker counts the active consumer alone: consumer 2 had time to subscribe while round 1 ran.
    await sleep(1000);

    // Round 2: the live pods change again; consumer 1 is cut off after its first write of it, before the ack.
    cutting = true;
    await publish(live.map((n) => registered(n, '40')));
    await untilSettled('40');
    await sleep(500); // anything still on its way would show now
    assert.ok(await settledAt('40'), `after a pause: ${JSON.stringify([...state()])}`);
    for (const stop of stops) stop.abort();
    await Promise.all([running1, running2, one.transport.close(), two.transport.close()]);
  } finally {
    for (const stop of stops) stop.abort();
    await relay.close();
  }

  assert.ok(Number.isFinite(cutAt), 'consumer 1 was cut off after a write, before its ack');
  const byTwo = seen.filter((s) => s.who === 2);
  assert.ok(byTwo.length > 0 && byTwo.every((s) => s.at > cutAt), 'a single active consumer: consumer 2 got nothing while consumer 1 was there');
  assert.ok(byTwo.some((s) => s.delivery.deliveryCount > 1), 'consumer 2 got what consumer 1 had not acknowledged');
  const writesOfCut = cmdb.calls.filter((call) => call.operation !== 'list' && call.id === cutId).length;
  assert.ok(writesOfCut >= 2, `the message whose ack was lost was applied again by consumer 2 (${writesOfCut} writes of ${cutId})`);
  t.diagnostic(`${seen.length} deliveries (${byTwo.length} to consumer 2), ${cmdb.calls.length} CMDB calls (3 of them failed)`);
});

test('a consumer taking the queue over after a crash reads back what was applied: older copies behind the newer ones are not written', async (t) => {
  const names = { exchange: uniqueName('x'), queue: uniqueName('q') };
  const cmdb = createMemoryBackend();
  const { transport: publishing } = transportOf(t, server, names);
  await publishing.declare(AbortSignal.timeout(10_000));
  const publisher = publishing.publisher();
  const publish = async (transitions: Transition[]) => {
    for (const transition of transitions) {
      const event = transitionEvent(transition);
      await publisher.publish({ id: event.id, key: transition.record.id, type: event.type, body: encodeEvent(event) }, AbortSignal.timeout(10_000));
    }
  };
  const look = await (await inspector(t, server)).channel();
  const drained = async () => (await look.checkQueue(names.queue)).messageCount === 0;
  const consumer = (who: string) => {
    const logged = captureLog('debug');
    const { transport } = transportOf(t, server, { ...names, logger: logged.log });
    const outcomes: string[] = [];
    const apply = createApplier({ cluster: 'test', deregisterAction: 'retire', backend: () => cmdb, attemptTimeoutMs: 5000, signal: new AbortController().signal, log: logged.log, onOutcome: (kind, outcome) => outcomes.push(`${kind} ${outcome}`) });
    const stop = new AbortController();
    const running = transport.consumer({ concurrency: 4 }).run(apply, stop.signal);
    return { who, logged, outcomes, end: async () => { stop.abort(); await running; await transport.close(); } };
  };
  const facts = (n: number) => cmdb.records.get(recordOf(n, '').id);

  // The first consumer applies pod 0 up to version 30 and pod 1's end, acknowledges them, and is gone (its memory
  // with it, as a crashed process's).
  await publish([registered(0, '10'), registered(0, '30'), registered(1, '10'), gone(1)]);
  const first = consumer('first');
  await until('the first consumer applied everything', async () => facts(0)?.labels.facts === '30' && facts(1)?.state === 'terminated' && (await drained()));
  await first.end();
  assert.equal(facts(0)?.pod.resourceVersion, '30', 'the pod version went into the CMDB with the record');

  // A second publisher, behind the first, sends older copies; the next consumer takes the queue over.
  await publish([registered(0, '20'), registered(1, '10')]);
  const next = consumer('next');
  await until('the older copies taken', () => next.outcomes.length === 2 && drained());
  assert.equal(facts(0)?.labels.facts, '30', 'version 20 was not written over 30');
  assert.equal(facts(1)?.state, 'terminated', 'the ended record did not come back');
  assert.deepEqual(next.outcomes, ['registered skipped', 'registered skipped']);
  assert.ok(next.logged.lines.some((line) => /read what was applied to 2 records back from the CMDB/.test(String(line.msg))), 'it read the memory back once');

  // A newer transition still goes through.
  await publish([registered(0, '40')]);
  await until('version 40 written', () => facts(0)?.labels.facts === '40');
  await next.end();
  const lists = cmdb.calls.filter((call) => call.operation === 'list').length;
  assert.equal(lists, 2, 'one listing per consumer taking the queue, none per message');
});

test('a queue declared without single active consumer (as before) is refused with one line naming --amqp-queue', async (t) => {
  const names = { exchange: uniqueName('x'), queue: uniqueName('q') };
  const channel = await (await inspector(t, server)).channel();
  await channel.assertQueue(names.queue, { durable: true, arguments: { 'x-queue-type': 'quorum', 'x-dead-letter-exchange': `${names.queue}.dead-letter`, 'x-dead-letter-strategy': 'at-least-once', 'x-overflow': 'reject-publish' } });
  const { transport } = transportOf(t, server, names);
  await assert.rejects(transport.declare(AbortSignal.timeout(10_000)), (caught: unknown) =>
    caught instanceof ConfigError
    && /^queue ".*" exists on amqp:\/\/.* with other settings than cmdb-hook declares \(.*inequivalent arg 'x-single-active-consumer'.*\); delete it so it is declared anew, or pick another name with --amqp-queue \(CMDB_HOOK_AMQP_QUEUE\)$/.test(caught.message));
});
