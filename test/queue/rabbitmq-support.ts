/** What the RabbitMQ tests share: a transport on the test broker, and a plain amqplib channel to look inside it. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import amqp from 'amqplib';
import { RabbitMqTransport, type RabbitMqOptions } from '../../src/queue/rabbitmq/rabbitmq-transport.ts';
import type { QueueMessage } from '../../src/queue/transport.ts';
import type { RabbitMqServer } from '../support/brokers/rabbitmq-server.ts';
import { captureLog, type CapturedLog } from '../support/capture-log.ts';

/** A file that holds `content`, as a mounted Secret would. */
export function secretFile(content: string): string {
  const file = join(mkdtempSync(join(tmpdir(), 'cmdb-hook-amqp-')), 'password');
  writeFileSync(file, `${content}\n`, { mode: 0o600 });
  return file;
}

let names = 0;
/** A fresh exchange and queue name per test, so tests on one broker never see each other's messages. */
export function uniqueName(what: string): string {
  return `${what}-${process.pid}-${names++}`;
}

export function transportOf(t: TestContext, server: RabbitMqServer, options: Partial<RabbitMqOptions> = {}): { transport: RabbitMqTransport; logged: CapturedLog } {
  const logged = captureLog('debug');
  const transport = new RabbitMqTransport({
    url: server.url,
    passwordFile: secretFile(server.password),
    cluster: 'test',
    logger: logged.log,
    ...options,
  });
  t.after(() => transport.close());
  return { transport, logged };
}

/** A plain connection for the test's own look at the broker (queue depths, the dead-letter queue). */
export async function inspector(t: TestContext, server: RabbitMqServer): Promise<{ connection: amqp.ChannelModel; channel: () => Promise<amqp.Channel> }> {
  const connection = await amqp.connect({ protocol: 'amqp', hostname: '127.0.0.1', port: server.port, username: server.username, password: server.password, vhost: '/' });
  connection.on('error', () => {});
  t.after(() => connection.close().catch(() => {}));
  return {
    connection,
    channel: async () => {
      const channel = await connection.createChannel();
      channel.on('error', () => {});
      return channel;
    },
  };
}

export function messageOf(n: number, key = `ns/pod-${n}/app`): QueueMessage {
  return { id: `event-${n}`, key, type: 'io.cmdb-hook.container.registered', body: Buffer.from(JSON.stringify({ n })) };
}

/** Polls until the condition holds, or fails the test saying what was awaited. */
export async function until(what: string, condition: () => boolean | Promise<boolean>, withinMs = 20_000): Promise<void> {
  const end = performance.now() + withinMs;
  while (!(await condition())) {
    if (performance.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
