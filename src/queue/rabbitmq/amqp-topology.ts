import { createHash } from 'node:crypto';
import type amqp from 'amqplib';
import { ConfigError } from '../../errors.ts';
import { settingName } from '../../settings/option.ts';
import { amqpReason, isPreconditionFailed } from './amqp-errors.ts';

/** The names both sides use: --amqp-exchange, --amqp-queue and --cluster. */
export interface AmqpNames {
  readonly exchange: string;
  readonly queue: string;
  readonly cluster: string;
}

/** Where the broker keeps what the consumer gave up on: an exchange and a queue of that one name. */
export function deadLetterOf(names: AmqpNames): string {
  return `${names.queue}.dead-letter`;
}

/**
 * A cluster name is one word of the routing key: a '.', '*' or '#' in it would split it or match another cluster's
 * messages (cluster `a` binds `cmdb-hook.a.#`, which `cmdb-hook.a.b.record...` of cluster `a.b` also matches).
 */
export function checkRoutable(cluster: string): void {
  if (!/^[^\s.*#]{1,100}$/.test(cluster)) {
    throw new ConfigError(`${settingName('cluster')} ${JSON.stringify(cluster)} cannot be one word of an AMQP routing key (no dot, * or # or space); choose a name without them`);
  }
}

/** What the queue receives: every message of this cluster. */
export function bindingOf(names: AmqpNames): string {
  return `cmdb-hook.${names.cluster}.#`;
}

// AMQP 0-9-1 carries a routing key as a short string: at most 255 bytes.
const MAX_ROUTING_KEY_BYTES = 255;

/**
 * `cmdb-hook.<cluster>.record.<record id>`, or `cmdb-hook.<cluster>.inventory`. A record id too long for a routing
 * key is routed by its SHA-256 instead: the key only routes (the body carries the id), and it stays one per record.
 */
export function routingKeyOf(names: AmqpNames, key: string): string {
  if (key === 'inventory') return `cmdb-hook.${names.cluster}.inventory`;
  const full = `cmdb-hook.${names.cluster}.record.${key}`;
  if (Buffer.byteLength(full) <= MAX_ROUTING_KEY_BYTES) return full;
  return `cmdb-hook.${names.cluster}.record.sha256-${createHash('sha256').update(key).digest('hex')}`;
}

/**
 * The work queue's settings. A quorum queue: replicated, durable, and it counts deliveries (x-delivery-count).
 * What the consumer rejects goes to the dead-letter exchange at-least-once (RabbitMQ 3.10+), which keeps the message
 * in the queue until the dead-letter queue confirmed it; that strategy needs `reject-publish` overflow, or the broker
 * silently falls back to at-most-once. No x-delivery-limit: a CMDB outage may take any number of redeliveries, and
 * it is the consumer that decides when a message is poison. A single active consumer: RabbitMQ has no per-key
 * ordering among competing consumers (two could apply one record's transitions at once, the older last), so every
 * replica subscribes and the broker delivers to one at a time, the next taking over when it goes away (RabbitMQ
 * 3.8+ for quorum queues). Queue arguments cannot change once declared: a queue declared without it is refused
 * (declareTopology).
 */
export function workQueueArguments(names: AmqpNames): Record<string, unknown> {
  return {
    'x-queue-type': 'quorum',
    'x-dead-letter-exchange': deadLetterOf(names),
    'x-dead-letter-strategy': 'at-least-once',
    'x-overflow': 'reject-publish',
    'x-single-active-consumer': true,
  };
}

/**
 * Creates the exchange, the work queue bound to this cluster's messages, and the dead-letter exchange and queue,
 * when missing. Declaring what exists with the same settings changes nothing, so both sides declare at every start:
 * the queue exists before the first message, and nothing published before the first consumer is lost. A name taken
 * with other settings (406 PRECONDITION_FAILED) is one config error that names the setting and the difference.
 */
export async function declareTopology(channel: amqp.Channel, names: AmqpNames, broker: string): Promise<void> {
  const deadLetter = deadLetterOf(names);
  const step = async (what: string, flag: string, work: () => Promise<unknown>) => {
    try {
      await work();
    } catch (error) {
      if (!isPreconditionFailed(error)) throw error;
      throw new ConfigError(
        `${what} exists on ${broker} with other settings than cmdb-hook declares (${amqpReason(error)}); delete it so it is declared anew, or pick another name with ${settingName(flag)}`,
        { cause: error },
      );
    }
  };
  await step(`exchange ${JSON.stringify(names.exchange)}`, 'amqp-exchange', () => channel.assertExchange(names.exchange, 'topic', { durable: true }));
  await step(`exchange ${JSON.stringify(deadLetter)}`, 'amqp-queue', () => channel.assertExchange(deadLetter, 'fanout', { durable: true }));
  await step(`queue ${JSON.stringify(deadLetter)}`, 'amqp-queue', () =>
    channel.assertQueue(deadLetter, { durable: true, arguments: { 'x-queue-type': 'quorum' } }));
  await step(`queue ${JSON.stringify(deadLetter)}`, 'amqp-queue', () => channel.bindQueue(deadLetter, deadLetter, ''));
  await step(`queue ${JSON.stringify(names.queue)}`, 'amqp-queue', () =>
    channel.assertQueue(names.queue, { durable: true, arguments: workQueueArguments(names) }));
  await step(`queue ${JSON.stringify(names.queue)}`, 'amqp-queue', () => channel.bindQueue(names.queue, names.exchange, bindingOf(names)));
}
