/** Consuming from a real nats-server 2.9: each verdict applied (ack, retry after a delay, dead-lettered with its reason). */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrokerUnavailableError } from '../../src/queue/broker-errors.ts';
import { decodeEvent } from '../../src/queue/decode-event.ts';
import { DEAD_LETTER_HEADERS } from '../../src/queue/nats/consumer.ts';
import type { NatsOptions } from '../../src/queue/nats/nats-options.ts';
import type { Delivery, Verdict } from '../../src/queue/transport.ts';
import { startNatsServer, type NatsServer } from '../support/brokers/nats-server.ts';
import { waitFor } from '../support/processes.ts';
import { admin, message, openTransport, UID } from './nats-support.ts';

let server: NatsServer;
before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server.dispose();
});

const signal = () => AbortSignal.timeout(20_000);

interface Seen {
  id: string;
  deliveryCount: number;
  sequence: number | undefined;
  at: number;
}

/**
 * Publishes the messages, then consumes them with `verdict` until `until` holds (or 10 s), and goes on consuming for
 * `settleMs` more to see what else arrives.
 */
async function consume(options: Partial<NatsOptions> & { cluster: string; stream: string }, ids: string[], verdict: (delivery: Delivery) => Promise<Verdict> | Verdict, until: (seen: Seen[]) => boolean, settleMs = 0) {
  const opened = await openTransport(server, options);
  const seen: Seen[] = [];
  try {
    await opened.transport.declare(signal());
    for (const id of ids) await opened.transport.publisher().publish(message(id), signal());
    const stop = new AbortController();
    const running = opened.transport.consumer({ concurrency: 2 }).run(async (delivery) => {
      seen.push({ id: delivery.message.id, deliveryCount: delivery.deliveryCount, sequence: delivery.sequence, at: performance.now() });
      return verdict(delivery);
    }, stop.signal);
    assert.ok(await waitFor(() => until(seen), 10_000), `only saw ${JSON.stringify(seen)}`);
    await sleep(settleMs);
    stop.abort();
    await running;
  } finally {
    await opened.transport.close();
  }
  return { seen, captured: opened.captured };
}

describe('consume', () => {
  it('acks: each message handled once, with its id, key and stream sequence, and nothing left pending', async () => {
    const { seen } = await consume({ cluster: 'ack', stream: 'ACK', ackWaitMs: 500 }, ['a-1', 'a-2', 'a-3'], () => ({ kind: 'ack' }), (all) => all.length >= 3, 800);
    assert.deepEqual(seen.map(({ id, deliveryCount, sequence }) => [id, deliveryCount, sequence]).sort(), [['a-1', 1, 1], ['a-2', 1, 2], ['a-3', 1, 3]]);
    const { jsm, connection } = await admin(server);
    const info = await jsm.consumers.info('ACK', 'cmdb-hook');
    await connection.close();
    assert.equal(info.num_pending, 0);
    assert.equal(info.num_ack_pending, 0);
  });

  it('retries: redelivered after the delay with deliveryCount 2, then acked', async () => {
    const { seen } = await consume(
      { cluster: 'retry', stream: 'RETRY' },
      ['r-1'],
      (delivery) => (delivery.deliveryCount === 1 ? { kind: 'retry', delayMs: 400 } : { kind: 'ack' }),
      (all) => all.length >= 2,
      500,
    );
    assert.deepEqual(seen.map(({ id, deliveryCount }) => [id, deliveryCount]), [['r-1', 1], ['r-1', 2]]);
    const waited = (seen[1]?.at ?? 0) - (seen[0]?.at ?? 0);
    assert.ok(waited >= 350, `redelivered after ${waited} ms, asked for 400 ms`);
  });

  it('dead-letters a poison message: terminated, never redelivered, copied with its reason, one log line; the rest flows', async () => {
    const cluster = 'dead';
    const opened = await openTransport(server, { cluster, stream: 'DEAD', ackWaitMs: 500 });
    const seen: string[] = [];
    try {
      await opened.transport.declare(signal());
      const publisher = opened.transport.publisher();
      await publisher.publish(message('poison', 'this is not JSON'), signal());
      await publisher.publish(message('fine', '{}'), signal());
      const stop = new AbortController();
      const running = opened.transport.consumer({ concurrency: 1 }).run((delivery) => {
        seen.push(delivery.message.id);
        const decoded = decodeEvent(delivery.message.body, cluster);
        return Promise.resolve<Verdict>(delivery.message.id === 'poison' && !decoded.ok ? { kind: 'dead', reason: decoded.problem } : { kind: 'ack' });
      }, stop.signal);
      assert.ok(await waitFor(() => seen.length >= 2, 10_000));
      await sleep(1000); // two ack waits: a message terminated without effect would be back by now
      stop.abort();
      await running;
      assert.deepEqual(seen, ['poison', 'fine'], 'the poison message came once; the dead-letter copy never reached the consumer');
      const { jsm, connection } = await admin(server);
      try {
        const copy = await jsm.streams.getMessage('DEAD', { last_by_subj: 'cmdb-hook.dead.dead-letter' });
        assert.equal(copy?.string(), 'this is not JSON');
        assert.equal(copy?.header.get(DEAD_LETTER_HEADERS.reason), 'the body is not JSON (16 bytes)');
        assert.equal(copy?.header.get(DEAD_LETTER_HEADERS.subject), `cmdb-hook.dead.record.${UID}_app`);
        assert.equal(copy?.header.get(DEAD_LETTER_HEADERS.sequence), '1');
        assert.equal(copy?.header.get('Cmdb-Hook-Type'), 'io.cmdb-hook.container.registered');
        const info = await jsm.consumers.info('DEAD', 'cmdb-hook');
        assert.equal(info.num_ack_pending, 0);
        assert.equal(info.num_redelivered, 0);
      } finally {
        await connection.close();
      }
      const lines = opened.captured.lines.filter((line) => line.msg.startsWith('dead-lettered'));
      assert.equal(lines.length, 1);
      assert.equal(lines[0]?.msg, 'dead-lettered a message: the body is not JSON (16 bytes)');
      assert.equal(lines[0]?.level, 50);
      assert.equal(lines[0]?.id, 'poison');
    } finally {
      await opened.transport.close();
    }
  });

  it('keeps a message it is still handling alive past the ack wait: no second delivery to another worker', async () => {
    const { seen } = await consume(
      { cluster: 'slow', stream: 'SLOW', ackWaitMs: 400 },
      ['s-1', 's-2', 's-3'],
      async () => {
        await sleep(1000);
        return { kind: 'ack' };
      },
      (all) => all.length >= 3,
      1100,
    );
    assert.deepEqual(seen.map(({ id, deliveryCount }) => [id, deliveryCount]).sort(), [['s-1', 1], ['s-2', 1], ['s-3', 1]]);
  });

  it('dead-letters a message still failing at the consumer\'s max deliver, rather than letting JetStream drop it silently', async () => {
    const { seen, captured } = await consume(
      { cluster: 'give-up', stream: 'GIVEUP', maxDeliver: 3 },
      ['g-1'],
      () => ({ kind: 'retry', delayMs: 50 }),
      (all) => all.length >= 3,
      800,
    );
    assert.deepEqual(seen.map(({ deliveryCount }) => deliveryCount), [1, 2, 3]);
    assert.ok(captured.lines.some((line) => line.msg === 'dead-lettered a message: still failing after 3 deliveries, the consumer\'s max deliver'));
  });

  it('tells a handler the latest message of its record, so a redelivered older one applies the newer state', async () => {
    const cluster = 'order';
    const opened = await openTransport(server, { cluster, stream: 'ORDER' });
    const workers = [opened, await openTransport(server, { cluster, stream: 'ORDER' })];
    let cmdb = '';
    const stop = new AbortController();
    const redelivered: { id: string; latest: number | undefined }[] = [];
    try {
      await opened.transport.declare(signal());
      const publisher = opened.transport.publisher();
      // Two competing consumers, two in flight each; every message's first delivery is sent back, so deliveries come
      // in any order. The handler writes the latest, then looks again (the protocol consumer.ts describes).
      const runs = workers.map(({ transport }) => transport.consumer({ concurrency: 2 }).run(async (delivery) => {
        if (delivery.deliveryCount === 1) return { kind: 'retry', delayMs: delivery.message.id === 'v-1' ? 300 : Math.floor(Math.random() * 200) };
        let latest = await delivery.latest?.();
        if (delivery.message.id === 'v-1') redelivered.push({ id: delivery.message.id, latest: latest?.sequence });
        for (;;) {
          const applying = Buffer.from(latest?.body ?? delivery.message.body).toString();
          await sleep(Math.floor(Math.random() * 30));
          cmdb = applying;
          const again = await delivery.latest?.();
          if (again?.sequence === latest?.sequence) return { kind: 'ack' };
          latest = again;
        }
      }, stop.signal));
      for (let version = 1; version <= 10; version++) await publisher.publish(message(`v-${version}`, `state ${version}`), signal());
      const { jsm, connection } = await admin(server);
      try {
        assert.ok(await waitFor(() => redelivered.length > 0, 10_000));
        let drained = false;
        for (let round = 0; round < 100 && !drained; round++) {
          const info = await jsm.consumers.info('ORDER', 'cmdb-hook');
          drained = info.num_pending === 0 && info.num_ack_pending === 0;
          if (!drained) await sleep(100);
        }
        assert.ok(drained, 'all acknowledged');
      } finally {
        await connection.close();
      }
      stop.abort();
      await Promise.all(runs);
      assert.equal(redelivered[0]?.latest, 10, 'v-1 came back after all ten were stored, and saw the tenth as latest');
      assert.equal(cmdb, 'state 10');
    } finally {
      stop.abort();
      for (const { transport } of workers) await transport.close();
    }
  });

  it('ends with an error, not quietly, when its connection is closed under it', async () => {
    const { transport } = await openTransport(server, { cluster: 'closed', stream: 'CLOSED' });
    await transport.declare(signal());
    const running = transport.consumer({ concurrency: 1 }).run(() => Promise.resolve({ kind: 'ack' }), new AbortController().signal);
    const ended = assert.rejects(running, (error: unknown) => error instanceof BrokerUnavailableError && /stopped receiving: the connection is closed/.test(error.message));
    await sleep(200);
    await transport.close();
    await ended;
  });

  it('dead-letters a foreign message at the size limit, carrying server directives, without looping on the copy', async () => {
    const { transport, captured } = await openTransport(server, { cluster: 'foreign', stream: 'FOREIGN', ackWaitMs: 500 });
    const { connection, jsm } = await admin(server);
    const seen: number[] = [];
    const stop = new AbortController();
    try {
      await transport.declare(signal());
      const size = 1024 * 1024 - 150;
      // Stored with `Nats-Expected-Last-Sequence: 0`, which a copy would fail on if it carried the header along.
      await jetstream(connection).publish(`cmdb-hook.foreign.record.${UID}_app`, new Uint8Array(size), { expect: { lastSequence: 0 } });
      const running = transport.consumer({ concurrency: 1 }).run((delivery) => {
        seen.push(delivery.deliveryCount);
        return Promise.resolve({ kind: 'dead', reason: 'not ours' });
      }, stop.signal);
      assert.ok(await waitFor(() => captured.lines.some((line) => line.msg === 'dead-lettered a message: not ours'), 10_000));
      await sleep(1000);
      stop.abort();
      await running;
      assert.deepEqual(seen, [1]);
      const copy = await jsm.streams.getMessage('FOREIGN', { last_by_subj: 'cmdb-hook.foreign.dead-letter' });
      assert.equal(copy?.header.get(DEAD_LETTER_HEADERS.body), `dropped: ${size} bytes do not fit with the dead-letter headers`);
      assert.equal(copy?.header.get(DEAD_LETTER_HEADERS.reason), 'not ours');
      assert.equal(copy?.header.get('Nats-Expected-Last-Sequence'), '');
    } finally {
      stop.abort();
      await transport.close();
      await connection.close();
    }
  });
});
