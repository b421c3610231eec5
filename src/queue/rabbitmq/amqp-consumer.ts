import type amqp from 'amqplib';
import type { Logger } from '../../logger.ts';
import type { Consumer, Delivery, Verdict } from '../transport.ts';
import type { AmqpConnection } from './amqp-connection.ts';
import { amqpReason } from './amqp-errors.ts';
import { KEY_HEADER } from './amqp-publisher.ts';
import { deadLetterOf, declareTopology, type AmqpNames } from './amqp-topology.ts';

// A retry waits at least this long, so a handler that asks for no delay cannot spin on one message.
const MIN_RETRY_DELAY_MS = 100;
// A held message must be settled before the broker's consumer_timeout (1,800,000 ms by default: rabbit.app of
// RabbitMQ 3.10.8), or it closes the whole channel; 5 minutes stays well inside it.
const MAX_RETRY_DELAY_MS = 5 * 60_000;

/**
 * Consumes the work queue with manual acks and prefetch = concurrency, so the broker never hands out more than the
 * consumer works on at once. Verdicts:
 * - ack: done, the broker forgets it.
 * - retry: the message is held (unacked) for the delay, then nacked with requeue, so the quorum queue delivers it
 *   again with x-delivery-count + 1. RabbitMQ 3.10 has no delayed delivery without a plugin; holding needs no extra
 *   queue, keeps the message in its place (the order of one record's transitions), keeps the broker's own delivery
 *   count, and cannot lose the message between a republish and an ack. Held messages fill the prefetch window, so a
 *   CMDB outage slows the consumer down instead of spinning through the backlog: no hot loop.
 * - dead: rejected without requeue; the queue dead-letters it (at-least-once) into `<queue>.dead-letter`, where an
 *   operator can read it, with one log line that says so and why.
 * After a reconnect, the topology is declared again and consuming resumes; what was unacked is redelivered.
 */
export class AmqpConsumer implements Consumer {
  readonly #connection: AmqpConnection;
  readonly #names: AmqpNames;
  readonly #logger: Logger;
  readonly #broker: string;
  readonly #concurrency: number;

  constructor(options: { connection: AmqpConnection; names: AmqpNames; logger: Logger; broker: string; concurrency: number }) {
    this.#connection = options.connection;
    this.#names = options.names;
    this.#logger = options.logger;
    this.#broker = options.broker;
    this.#concurrency = options.concurrency;
  }

  async run(handle: (delivery: Delivery) => Promise<Verdict>, signal: AbortSignal): Promise<void> {
    const stopping = new AbortController();
    const inFlight = new Set<Promise<void>>();
    let current: { channel: amqp.Channel; consumerTag: string } | undefined;
    const consumeOn = async (model: amqp.ChannelModel) => {
      const channel = await model.createChannel();
      channel.on('error', (error: Error) => this.#logger.warn({ broker: this.#broker, reason: amqpReason(error) }, 'the broker closed the consuming channel'));
      await declareTopology(channel, this.#names, this.#broker);
      await channel.prefetch(this.#concurrency);
      const { consumerTag } = await channel.consume(this.#names.queue, (message) => {
        if (message === null) {
          // The broker cancelled the consumer (the queue was deleted): reconnecting declares it again.
          this.#logger.warn({ broker: this.#broker, queue: this.#names.queue }, 'the broker cancelled the consumer; reconnecting');
          void model.close().catch(() => {});
          return;
        }
        const work = this.#deliver(channel, message, handle, stopping.signal);
        inFlight.add(work);
        void work.finally(() => inFlight.delete(work));
      }, { noAck: false });
      current = { channel, consumerTag };
    };
    const stopResuming = this.#connection.onEachConnection(consumeOn);
    try {
      await this.#connection.ready(signal);
      // Runs until stopped, or until the connection ends for good (a refused login, a conflicting declare).
      await Promise.race([this.#connection.failed(), new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        else signal.addEventListener('abort', () => resolve(), { once: true });
      })]);
    } finally {
      stopResuming();
      // No new deliveries; held retries are handed back at once; what is being handled finishes and is settled.
      await current?.channel.cancel(current.consumerTag).catch(() => {});
      stopping.abort();
      await Promise.allSettled(inFlight);
      await current?.channel.close().catch(() => {});
    }
  }

  async #deliver(channel: amqp.Channel, message: amqp.ConsumeMessage, handle: (delivery: Delivery) => Promise<Verdict>, stopping: AbortSignal): Promise<void> {
    const delivery = deliveryOf(message);
    let verdict: Verdict;
    try {
      verdict = await handle(delivery);
    } catch (error) {
      // A handler that throws has a bug; the message is not its fault, so it is kept and tried again.
      this.#logger.error({ err: error, id: delivery.message.id }, 'the message handler failed; the message is redelivered');
      verdict = { kind: 'retry', delayMs: 1000 };
    }
    const settle = (what: string, act: () => void) => {
      try {
        act();
      } catch (error) {
        // The channel closed meanwhile: the broker requeued the message and delivers it again (at-least-once).
        this.#logger.debug({ id: delivery.message.id, verdict: what, reason: amqpReason(error) }, 'the channel closed before the verdict; the broker redelivers the message');
      }
    };
    switch (verdict.kind) {
      case 'ack':
        settle('ack', () => channel.ack(message));
        return;
      case 'retry':
        await held(Math.min(Math.max(verdict.delayMs, MIN_RETRY_DELAY_MS), MAX_RETRY_DELAY_MS), stopping);
        settle('retry', () => channel.nack(message, false, true));
        return;
      case 'dead':
        settle('dead', () => channel.reject(message, false));
        this.#logger.warn(
          { id: delivery.message.id, type: delivery.message.type, key: delivery.message.key, deliveryCount: delivery.deliveryCount, reason: verdict.reason, deadLetterQueue: deadLetterOf(this.#names) },
          `message dead-lettered into ${deadLetterOf(this.#names)}: ${verdict.reason}`,
        );
        return;
    }
  }
}

/** What the handler sees of an AMQP delivery. */
export function deliveryOf(message: amqp.ConsumeMessage): Delivery {
  const headers = message.properties.headers ?? {};
  const key: unknown = headers[KEY_HEADER];
  // Quorum queues count returns in x-delivery-count: absent on the first delivery, then 1, 2, ...
  const returns: unknown = headers['x-delivery-count'];
  return {
    message: {
      id: typeof message.properties.messageId === 'string' ? message.properties.messageId : '',
      key: typeof key === 'string' ? key : message.fields.routingKey.replace(/^cmdb-hook\..*?\.record\./, ''),
      type: typeof message.properties.type === 'string' ? message.properties.type : '',
      body: message.content,
    },
    deliveryCount: (typeof returns === 'number' ? returns : 0) + 1,
  };
}

/** Waits `ms`, or less once `stopping` aborts. */
function held(ms: number, stopping: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (stopping.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      stopping.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    stopping.addEventListener('abort', done, { once: true });
  });
}
