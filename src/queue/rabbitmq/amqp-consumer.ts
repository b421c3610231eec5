import type amqp from 'amqplib';
import type { Logger } from '../../logger.ts';
import type { Consumer, Delivery, Verdict } from '../transport.ts';
import type { AmqpConnection } from './amqp-connection.ts';
import { amqpReason } from './amqp-errors.ts';
import { KEY_HEADER } from './amqp-publisher.ts';
import { deadLetterOf, declareTopology, type AmqpNames } from './amqp-topology.ts';

// A retry waits at least this long, so a handler that asks for no delay cannot spin on one message.
const MIN_RETRY_DELAY_MS = 100;
// A kept message waits at most this long between attempts. The broker's consumer_timeout (1,800,000 ms by default:
// rabbit.app of RabbitMQ 3.10.8) closes a channel whose message stays unacked longer: then it is redelivered.
const MAX_RETRY_DELAY_MS = 5 * 60_000;

/**
 * Consumes the work queue with manual acks and prefetch = concurrency, so the broker never hands out more than the
 * consumer works on at once. The queue has a single active consumer (amqp-topology.ts): replicas stand by, and the
 * broker hands the queue, with what was unacknowledged, to another one when the active one goes away.
 * One record's messages (one key) are handled one after another in the order they arrived, each settled before the
 * next starts: so a record's acknowledged messages are always older than its unacknowledged ones, and what a crash
 * hands to the next consumer is the newest of each record. Verdicts:
 * - ack: done, the broker forgets it.
 * - retry: the message is kept (unacked) for the delay and handed to the handler again, with the delivery count + 1.
 *   It never goes back to the queue while this consumer lives: a requeued message would come again behind newer
 *   ones of its record, or go to another consumer. RabbitMQ 3.10 has no delayed delivery without a plugin; keeping
 *   it needs no extra queue. Kept messages fill the prefetch window, so a CMDB outage slows the consumer down instead
 *   of spinning through the backlog: no hot loop.
 * - dead: rejected without requeue; the queue dead-letters it (at-least-once) into `<queue>.dead-letter`, where an
 *   operator can read it, with one log line that says so and why.
 * After a reconnect, the topology is declared again and consuming resumes; what was unacked is redelivered. On stop,
 * kept messages are handed back (nack with requeue).
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
    // Per key, the last delivery's work: the next one of that key starts when it has been settled.
    const chains = new Map<string, Promise<void>>();
    let current: { channel: amqp.Channel; consumerTag: string } | undefined;
    let sessions = 0;
    const consumeOn = async (model: amqp.ChannelModel) => {
      const channel = await model.createChannel();
      const session = ++sessions;
      // Once the channel is gone, the broker has taken its unacked messages back: keeping them is pointless.
      const lost = new AbortController();
      channel.on('close', () => lost.abort());
      channel.on('error', (error: Error) => this.#logger.warn({ broker: this.#broker, reason: amqpReason(error) }, 'the broker closed the consuming channel'));
      await declareTopology(channel, this.#names, this.#broker);
      await channel.prefetch(this.#concurrency);
      const ended = AbortSignal.any([stopping.signal, lost.signal]);
      const { consumerTag } = await channel.consume(this.#names.queue, (message) => {
        if (message === null) {
          // The broker cancelled the consumer (the queue was deleted): reconnecting declares it again.
          this.#logger.warn({ broker: this.#broker, queue: this.#names.queue }, 'the broker cancelled the consumer; reconnecting');
          void model.close().catch(() => {});
          return;
        }
        const key = deliveryOf(message).message.key;
        const work = (chains.get(key) ?? Promise.resolve()).then(() => this.#deliver(channel, message, session, handle, { stopping: stopping.signal, ended }));
        chains.set(key, work);
        inFlight.add(work);
        void work.finally(() => {
          inFlight.delete(work);
          if (chains.get(key) === work) chains.delete(key);
        });
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
      // No new deliveries; kept retries are handed back at once; what is being handled finishes and is settled.
      await current?.channel.cancel(current.consumerTag).catch(() => {});
      stopping.abort();
      await Promise.allSettled(inFlight);
      await current?.channel.close().catch(() => {});
    }
  }

  async #deliver(channel: amqp.Channel, message: amqp.ConsumeMessage, session: number, handle: (delivery: Delivery) => Promise<Verdict>, until: { stopping: AbortSignal; ended: AbortSignal }): Promise<void> {
    const settle = (id: string, what: string, act: () => void) => {
      try {
        act();
      } catch (error) {
        // The channel closed meanwhile: the broker requeued the message and delivers it again (at-least-once).
        this.#logger.debug({ id, verdict: what, reason: amqpReason(error) }, 'the channel closed before the verdict; the broker redelivers the message');
      }
    };
    for (let retries = 0; ; retries++) {
      const delivery = deliveryOf(message, retries, session);
      const { id } = delivery.message;
      let verdict: Verdict;
      try {
        verdict = await handle(delivery);
      } catch (error) {
        // A handler that throws has a bug; the message is not its fault, so it is kept and tried again.
        this.#logger.error({ err: error, id }, 'the message handler failed; the message is tried again');
        verdict = { kind: 'retry', delayMs: 1000 };
      }
      switch (verdict.kind) {
        case 'ack':
          settle(id, 'ack', () => channel.ack(message));
          return;
        case 'dead':
          settle(id, 'dead', () => channel.reject(message, false));
          this.#logger.warn(
            { id, type: delivery.message.type, key: delivery.message.key, deliveryCount: delivery.deliveryCount, reason: verdict.reason, deadLetterQueue: deadLetterOf(this.#names) },
            `message dead-lettered into ${deadLetterOf(this.#names)}: ${verdict.reason}`,
          );
          return;
        case 'retry':
          await held(Math.min(Math.max(verdict.delayMs, MIN_RETRY_DELAY_MS), MAX_RETRY_DELAY_MS), until.ended);
          if (until.stopping.aborted) {
            settle(id, 'retry', () => channel.nack(message, false, true));
            return;
          }
          // The channel is gone: the broker delivers the message again, on the next connection.
          if (until.ended.aborted) return;
      }
    }
  }
}

/** What the handler sees of an AMQP delivery. */
export function deliveryOf(message: amqp.ConsumeMessage, retries = 0, session?: number): Delivery {
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
    deliveryCount: (typeof returns === 'number' ? returns : 0) + 1 + retries,
    ...(session === undefined ? {} : { session }),
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
