import type { Logger } from '../../logger.ts';
import type { Consumer, Publisher, Transport } from '../transport.ts';
import { AmqpConnection } from './amqp-connection.ts';
import { AmqpConsumer } from './amqp-consumer.ts';
import { AmqpPublisher } from './amqp-publisher.ts';
import { readAmqpEndpoint, type AmqpFiles } from './amqp-settings.ts';
import { declareTopology, type AmqpNames } from './amqp-topology.ts';

export interface RabbitMqOptions extends AmqpFiles {
  /** --amqp-exchange, default `cmdb-hook` (a durable topic exchange). */
  readonly exchange?: string | undefined;
  /** --amqp-queue, default `cmdb-hook` (a quorum queue, with `<queue>.dead-letter` beside it). */
  readonly queue?: string | undefined;
  readonly cluster: string;
  readonly logger: Logger;
  /** How many publishes may wait for the broker while it is away before more are refused; default 1000. */
  readonly maxWaitingPublishes?: number | undefined;
}

/**
 * RabbitMQ over AMQP 0-9-1 (amqplib): one connection that recovers by itself, a confirm channel for publishing,
 * one channel per consumer. Settings files are read once, here; a bad one is a config error naming its flag.
 */
export class RabbitMqTransport implements Transport {
  readonly #connection: AmqpConnection;
  readonly #names: AmqpNames;
  readonly #logger: Logger;
  readonly #broker: string;
  readonly #maxWaiting: number;
  readonly #publishers = new Set<AmqpPublisher>();

  constructor(options: RabbitMqOptions) {
    const endpoint = readAmqpEndpoint(options);
    this.#broker = endpoint.shown;
    this.#logger = options.logger;
    this.#names = { exchange: options.exchange ?? 'cmdb-hook', queue: options.queue ?? 'cmdb-hook', cluster: options.cluster };
    this.#maxWaiting = options.maxWaitingPublishes ?? 1000;
    this.#connection = new AmqpConnection(endpoint, options.logger);
  }

  async declare(signal: AbortSignal): Promise<void> {
    const channel = await this.#connection.channel(signal);
    // A failed declare closes the channel on the broker's side; unheard, that 'error' would crash the process.
    channel.on('error', () => {});
    try {
      await declareTopology(channel, this.#names, this.#broker);
    } finally {
      await channel.close().catch(() => {});
    }
  }

  publisher(): Publisher {
    const publisher = new AmqpPublisher({ connection: this.#connection, names: this.#names, logger: this.#logger, broker: this.#broker, maxWaiting: this.#maxWaiting });
    this.#publishers.add(publisher);
    return publisher;
  }

  consumer(options: { concurrency: number }): Consumer {
    return new AmqpConsumer({ connection: this.#connection, names: this.#names, logger: this.#logger, broker: this.#broker, concurrency: options.concurrency });
  }

  async close(): Promise<void> {
    await Promise.all([...this.#publishers].map((publisher) => publisher.close()));
    await this.#connection.close();
  }
}
