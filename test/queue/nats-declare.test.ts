/** Declaring the stream and the durable consumer on a real nats-server 2.9 (Debian's), and connecting to it. */
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { AckPolicy } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import { ConfigError } from '../../src/errors.ts';
import { covers } from '../../src/queue/nats/declare.ts';
import { NatsTransport } from '../../src/queue/nats/nats-transport.ts';
import { startNatsServer, type NatsServer } from '../support/brokers/nats-server.ts';
import { captureLog, INFO, WARN } from '../support/capture-log.ts';
import { admin, openTransport } from './nats-support.ts';

let server: NatsServer;
before(async () => {
  server = await startNatsServer();
});
after(async () => {
  await server.dispose();
});

const signal = () => AbortSignal.timeout(10_000);

describe('declare', () => {
  it('creates the stream and the durable pull consumer once; declaring again changes nothing', async () => {
    const { transport, captured } = await openTransport(server, { stream: 'TWICE', consumer: 'twice' });
    const { jsm, connection } = await admin(server);
    try {
      await transport.declare(signal());
      const first = await jsm.consumers.info('TWICE', 'twice');
      await transport.declare(signal());
      const second = await openTransport(server, { stream: 'TWICE', consumer: 'twice' });
      await second.transport.declare(signal());
      await second.transport.close();
      const stream = await jsm.streams.info('TWICE');
      assert.deepEqual(stream.config.subjects, ['cmdb-hook.prod.>']);
      assert.equal(stream.config.storage, 'file');
      assert.equal(stream.config.duplicate_window, nanos(600_000));
      const again = await jsm.consumers.info('TWICE', 'twice');
      assert.deepEqual(again.config, first.config);
      assert.equal(again.created, first.created);
      assert.equal(again.config.filter_subject, 'cmdb-hook.prod.*.>');
      assert.equal(again.config.ack_policy, 'explicit');
      assert.equal(again.config.deliver_subject, undefined, 'a pull consumer');
      const created = captured.at(INFO).map((line) => line.msg).filter((msg) => msg.startsWith('created'));
      assert.deepEqual(created, ['created the NATS stream', 'created the NATS consumer']);
      assert.equal(captured.at(WARN).length, 0);
    } finally {
      await transport.close();
      await connection.close();
    }
  });

  it('updates a consumer whose tunables differ from the consumer side\'s settings, saying so; a publisher leaves them', async () => {
    const first = await openTransport(server, { stream: 'TUNE', cluster: 'tune', consumer: 'tune', ackWaitMs: 30_000 });
    await first.transport.declare(signal());
    await first.transport.close();
    const { jsm, connection } = await admin(server);
    const publisher = await openTransport(server, { stream: 'TUNE', cluster: 'tune', consumer: 'tune', side: 'publish', ackWaitMs: 5000 });
    const consumer = await openTransport(server, { stream: 'TUNE', cluster: 'tune', consumer: 'tune', maxDeliver: 4, backoffMs: [500, 1000, 2000] });
    try {
      await publisher.transport.declare(signal());
      assert.equal((await jsm.consumers.info('TUNE', 'tune')).config.ack_wait, nanos(30_000), 'the publisher did not change it');
      await consumer.transport.declare(signal());
      const config = (await jsm.consumers.info('TUNE', 'tune')).config;
      assert.deepEqual(config.backoff, [nanos(500), nanos(1000), nanos(2000)]);
      assert.equal(config.max_deliver, 4);
      const [line] = consumer.captured.at(WARN);
      assert.equal(line?.msg, 'updated the NATS consumer\'s tunables to this consumer\'s settings');
      assert.deepEqual(line?.from, { ack_wait: nanos(30_000), max_deliver: -1, backoff: null });
      await consumer.transport.declare(signal());
      assert.equal(consumer.captured.at(WARN).length, 1, 'declaring the same settings again is quiet');
    } finally {
      await publisher.transport.close();
      await consumer.transport.close();
      await connection.close();
    }
  });

  it('refuses, and leaves alone, a consumer of that name that delivers something else', async () => {
    const { jsm, connection } = await admin(server);
    const { transport } = await openTransport(server, { stream: 'OTHER', cluster: 'other', consumer: 'theirs' });
    try {
      await transport.declare(signal());
      await jsm.consumers.delete('OTHER', 'theirs');
      await jsm.consumers.add('OTHER', { durable_name: 'theirs', ack_policy: AckPolicy.Explicit, filter_subject: 'cmdb-hook.other.record.>', ack_wait: nanos(7000) });
      await assert.rejects(transport.declare(signal()), (error: unknown) => {
        assert.ok(error instanceof ConfigError);
        assert.match(error.message, /^--nats-consumer \(CMDB_HOOK_NATS_CONSUMER\) "theirs" on stream OTHER exists with another config: filter_subject "cmdb-hook.other.record.>" \(needs "cmdb-hook.other.\*.>"\)/);
        assert.match(error.message, /It is not replaced/);
        return true;
      });
      const config = (await jsm.consumers.info('OTHER', 'theirs')).config;
      assert.equal(config.filter_subject, 'cmdb-hook.other.record.>');
      assert.equal(config.ack_wait, nanos(7000));
    } finally {
      await transport.close();
      await connection.close();
    }
  });

  it('adds a second cluster\'s subjects to a shared stream, never dropping the first\'s', async () => {
    const prod = await openTransport(server, { stream: 'SHARED', cluster: 'east' });
    const staging = await openTransport(server, { stream: 'SHARED', cluster: 'staging', consumer: 'staging' });
    const { jsm, connection } = await admin(server);
    try {
      await prod.transport.declare(signal());
      await staging.transport.declare(signal());
      assert.deepEqual((await jsm.streams.info('SHARED')).config.subjects, ['cmdb-hook.east.>', 'cmdb-hook.staging.>']);
    } finally {
      await prod.transport.close();
      await staging.transport.close();
      await connection.close();
    }
  });
});

describe('connect', () => {
  const open = (tokenFile: string | undefined) => NatsTransport.open({ url: server.url, cluster: 'prod', tokenFile, side: 'consume', logger: captureLog().log }, signal());

  it('names --nats-token-file when the server refuses its token, and never shows the token', async () => {
    const wrong = join(server.dir, 'wrong-token');
    writeFileSync(wrong, 'not-the-token-4f9a\n');
    await assert.rejects(open(wrong), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.match(error.message, /refused the credential in --nats-token-file \(CMDB_HOOK_NATS_TOKEN_FILE\).*Authorization Violation/);
      assert.doesNotMatch(error.message, /not-the-token-4f9a/);
      return true;
    });
  });

  it('names both settings when the server needs a credential and none was given', async () => {
    await assert.rejects(open(undefined), /requires a credential .*set --nats-token-file \(CMDB_HOOK_NATS_TOKEN_FILE\) or --nats-creds-file/);
  });

  it('refuses credentials in --nats-url and a cluster name that cannot be a subject token, before connecting', async () => {
    const base = { cluster: 'prod', side: 'consume' as const, logger: captureLog().log };
    await assert.rejects(NatsTransport.open({ ...base, url: `nats://${server.token}@127.0.0.1:${server.port}` }, signal()), (error: unknown) => {
      assert.match(String(error), /--nats-url \(CMDB_HOOK_NATS_URL\) must not carry credentials/);
      assert.doesNotMatch(String(error), new RegExp(server.token));
      return true;
    });
    await assert.rejects(NatsTransport.open({ ...base, url: server.url, cluster: 'eu.prod' }, signal()), /--cluster \(CMDB_HOOK_CLUSTER\) "eu.prod" cannot be part of a NATS subject/);
  });
});

describe('a stream subject covers ours', () => {
  const cases: [string, boolean][] = [
    ['cmdb-hook.prod.>', true], ['cmdb-hook.*.>', true], ['cmdb-hook.>', true], ['>', true],
    ['cmdb-hook.prod.record.>', false], ['cmdb-hook.staging.>', false], ['cmdb-hook.prod.*', false], ['cmdb-hook.prod', false],
  ];
  for (const [pattern, expected] of cases) it(`${pattern}: ${expected}`, () => assert.equal(covers(pattern, 'cmdb-hook.prod.>'), expected));
});
