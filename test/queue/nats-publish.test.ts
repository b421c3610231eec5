/** Publishing to a real nats-server 2.9: confirmed by the PubAck, deduplicated by id, and surviving a broker restart. */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { BrokerRejectedError } from '../../src/queue/broker-errors.ts';
import { encodeEvent } from '../../src/queue/event.ts';
import { DEFAULT_MAX_BODY_BYTES, inventoryEvents, inventoryPass } from '../../src/queue/inventory.ts';
import { startNatsServer, type NatsServer } from '../support/brokers/nats-server.ts';
import { admin, message, openTransport, UID } from './nats-support.ts';

let server: NatsServer;
before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server.dispose();
});

const signal = () => AbortSignal.timeout(20_000);

describe('publish', () => {
  it('resolves on the PubAck with the message stored under the record\'s subject; the same id again is a duplicate, stored once', async () => {
    const { transport } = await openTransport(server, { stream: 'PUB', cluster: 'pub', side: 'publish' });
    const { jsm, connection } = await admin(server);
    try {
      await transport.declare(signal());
      const publisher = transport.publisher();
      assert.deepEqual(await publisher.publish(message('m-1'), signal()), { duplicate: false });
      assert.deepEqual(await publisher.publish(message('m-1', '{"n":"another publisher"}'), signal()), { duplicate: true });
      assert.deepEqual(await publisher.publish(message('m-2'), signal()), { duplicate: false });
      assert.equal((await jsm.streams.info('PUB')).state.messages, 2);
      const stored = await jsm.streams.getMessage('PUB', { seq: 1 });
      assert.equal(stored?.subject, `cmdb-hook.pub.record.${UID}_app`);
      assert.equal(stored?.header.get('Nats-Msg-Id'), 'm-1');
      assert.equal(stored?.header.get('Content-Type'), 'application/cloudevents+json; charset=utf-8');
      assert.equal(stored?.string(), '{"n":"m-1"}', 'the first copy is the one kept');
      await publisher.publish(message('inv-1', '{}', 'inventory'), signal());
      assert.equal((await jsm.streams.getMessage('PUB', { seq: 3 }))?.subject, 'cmdb-hook.pub.cluster.inventory');
    } finally {
      await transport.close();
      await connection.close();
    }
  });

  it('refuses a message over the server\'s size limit at once, as a rejection, not a retry', async () => {
    const { transport } = await openTransport(server, { stream: 'BIG', cluster: 'big', side: 'publish' });
    try {
      await transport.declare(signal());
      const huge = message('huge', 'x'.repeat(1024 * 1024 + 1));
      await assert.rejects(transport.publisher().publish(huge, signal()), (error: unknown) => {
        assert.ok(error instanceof BrokerRejectedError);
        assert.match(error.message, /^NATS refused message huge on cmdb-hook\.big\.record\.\S+: 'payload' max_payload size exceeded$/);
        return true;
      });
    } finally {
      await transport.close();
    }
  });

  it('takes inventory chunks of the default size limit, headers included', async () => {
    const { transport } = await openTransport(server, { stream: 'INV', cluster: 'inv', side: 'publish' });
    try {
      await transport.declare(signal());
      const ids = Array.from({ length: 30_000 }, (_, index) => `${String(index).padStart(12, '0')}-0000-4000-8000-000000000000_app`);
      const at = new Date();
      const events = inventoryEvents({ cluster: 'inv', pass: inventoryPass(at, 'publisher-0'), ids, at });
      assert.equal(events.length, 2);
      const first = encodeEvent(events[0]!);
      assert.ok(first.length > DEFAULT_MAX_BODY_BYTES - 100, `the first chunk is full: ${first.length} bytes`);
      for (const event of events) {
        const result = await transport.publisher().publish({ id: event.id, key: 'inventory', type: event.type, body: encodeEvent(event) }, signal());
        assert.deepEqual(result, { duplicate: false });
      }
    } finally {
      await transport.close();
    }
  });

  it('waits through a broker killed and restarted mid-stream: every publish confirmed, nothing lost, nothing twice', async () => {
    const { transport, captured } = await openTransport(server, { stream: 'RESTART', cluster: 'restart', side: 'publish', publishTimeoutMs: 1000 });
    const count = 40;
    try {
      await transport.declare(signal());
      const publisher = transport.publisher();
      const outage = (async () => {
        await sleep(150);
        await server.stop();
        await sleep(1500);
        await server.start();
      })();
      const results: { duplicate: boolean }[] = [];
      for (let index = 0; index < count; index++) {
        results.push(await publisher.publish(message(`restart-${index}`), signal()));
        await sleep(25);
      }
      await outage;
      assert.equal(results.length, count);
      const { jsm, connection } = await admin(server);
      try {
        const state = (await jsm.streams.info('RESTART')).state;
        assert.equal(state.messages, count, `stored ${state.messages} of ${count}`);
        const ids = new Set<string>();
        for (let seq = state.first_seq; seq <= state.last_seq; seq++) ids.add((await jsm.streams.getMessage('RESTART', { seq }))?.header.get('Nats-Msg-Id') ?? '');
        assert.equal(ids.size, count);
      } finally {
        await connection.close();
      }
      assert.ok(captured.lines.some((line) => line.msg === 'NATS did not confirm the message; sending it again'), 'the outage was seen by a publish');
    } finally {
      await transport.close();
    }
  });
});
