/**
 * The Transport over NATS JetStream: one connection per process, shared by the publisher and the consumer, which
 * the client re-establishes by itself after a broker restart (in-flight publishes are sent again, see publisher.ts;
 * a pull consumer resumes by itself).
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Consumer, Publisher, Transport } from '../transport.ts';
import { connectNats } from './connect.ts';
import { NatsConsumer } from './consumer.ts';
import { declareNats } from './declare.ts';
import { subjectsOf, type NatsOptions } from './nats-options.ts';
import { NatsPublisher } from './publisher.ts';

export class NatsTransport implements Transport {
  readonly #connection: NatsConnection;
  readonly #options: NatsOptions;

  private constructor(connection: NatsConnection, options: NatsOptions) {
    this.#connection = connection;
    this.#options = options;
  }

  /** Connects, retrying until `signal` aborts; a refused credential or a bad setting is a ConfigError at once. */
  static async open(options: NatsOptions, signal: AbortSignal): Promise<NatsTransport> {
    subjectsOf(options.cluster);
    const connection = await connectNats(options, signal);
    return new NatsTransport(connection, options);
  }

  async declare(signal: AbortSignal): Promise<void> {
    signal.throwIfAborted();
    await declareNats(this.#connection, this.#options);
  }

  publisher(): Publisher {
    return new NatsPublisher(this.#connection, this.#options);
  }

  consumer(options: { concurrency: number }): Consumer {
    return new NatsConsumer(this.#connection, this.#options, options.concurrency);
  }

  /** Sends what is buffered, then closes. */
  async close(): Promise<void> {
    if (this.#connection.isClosed()) return;
    await this.#connection.drain().catch(() => this.#connection.close());
  }
}
