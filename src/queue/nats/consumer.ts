/**
 * Pulls from the durable consumer in small batches and applies each verdict: ack; retry = nak with the delay; dead =
 * a copy on `cmdb-hook.<cluster>.dead-letter` with the reason in a header, then term(), and one log line.
 *
 * Small batches because of pre-buffering: whatever a pull fetched counts as delivered, and its ack wait runs while it
 * waits in this process's buffer; a large buffer behind a slow CMDB would expire and be redelivered to another
 * replica while still queued here (the same design problem as nats.go issue #1929). So a pull asks for no more than
 * the concurrency, and every message held here, queued or in its handler, is kept alive with `working()` (+WPI).
 *
 * Ordering: JetStream stores each record's transitions in publish order on the record's own subject and delivers the
 * stream in order, but a durable shared by several workers (or with more than one message in flight) hands two
 * messages of one record to two handlers at once, and a nak or an ack timeout redelivers an older one after a newer
 * one. JetStream does not serialise per subject on 2.9 (pinned groups need 2.11). So the handler must still make the
 * latest transition win, and the stream can tell it which is latest: `latest()` is the last message stored on the
 * record's subject. A handler that writes the latest (not the delivered one), then asks again and writes again if a
 * newer one arrived meanwhile, leaves the CMDB at the latest transition whichever worker's write lands last: a
 * worker whose write is older than the stream's latest finds out when it asks again, after its write landed.
 *
 * term() is sent without a reason: nats-server 2.9 does not recognise `+TERM <reason>` and redelivers the message
 * after the ack wait (the reason needs 2.10.4 or later); the reason goes into the dead-letter copy instead.
 */
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient, type JsMsg } from '@nats-io/jetstream';
import { BrokerUnavailableError } from '../broker-errors.ts';
import type { Consumer, Delivery, Verdict } from '../transport.ts';
import { DEFAULTS, keyOfSubject, subjectsOf, type NatsOptions } from './nats-options.ts';
import { HEADERS } from './publisher.ts';

export const DEAD_LETTER_HEADERS = { reason: 'Cmdb-Hook-Dead-Reason', subject: 'Cmdb-Hook-Dead-Subject', sequence: 'Cmdb-Hook-Dead-Sequence', body: 'Cmdb-Hook-Dead-Body' } as const;

/** A header value is one line; the reason is cut to a size any server takes. */
const headerValue = (text: string) => text.replace(/[\r\n]+/g, ' ').slice(0, 1000);

export class NatsConsumer implements Consumer {
  readonly #js: JetStreamClient;
  readonly #options: NatsOptions;
  readonly #concurrency: number;

  constructor(connection: NatsConnection, options: NatsOptions, concurrency: number) {
    this.#options = options;
    this.#concurrency = Math.max(1, Math.floor(concurrency));
    this.#js = jetstream(connection, { timeout: options.publishTimeoutMs ?? DEFAULTS.publishTimeoutMs });
  }

  async run(handle: (delivery: Delivery) => Promise<Verdict>, signal: AbortSignal): Promise<void> {
    const { logger } = this.#options;
    const consumer = await this.#js.consumers.get(this.#options.stream ?? DEFAULTS.stream, this.#options.consumer ?? DEFAULTS.consumer);
    const messages = await consumer.consume({ max_messages: this.#concurrency, expires: 5000 });
    const held = new Set<JsMsg>();
    const ackWait = Math.min(this.#options.ackWaitMs ?? DEFAULTS.ackWaitMs, ...(this.#options.backoffMs ?? []));
    const keepAlive = setInterval(() => held.forEach((message) => message.working()), Math.max(100, Math.floor(ackWait / 3)));
    const stop = () => void messages.stop();
    signal.addEventListener('abort', stop, { once: true });
    if (signal.aborted) stop();
    const running = new Set<Promise<void>>();
    try {
      for await (const message of messages) {
        held.add(message);
        while (running.size >= this.#concurrency) await Promise.race(running);
        if (signal.aborted) {
          // Not handled: let it go back at once rather than after the ack wait.
          message.nak();
          held.delete(message);
          continue;
        }
        const job = this.#deliver(message, handle)
          .catch((error: unknown) => logger.warn({ err: (error as Error).message }, 'a verdict could not be sent to NATS; the message comes again after its ack wait'))
          .finally(() => {
            held.delete(message);
            running.delete(job);
          });
        running.add(job);
      }
      await Promise.all(running);
      // The pull ends by itself only when the connection is closed for good: the caller must know it stopped.
      if (!signal.aborted) throw new BrokerUnavailableError(`the NATS consumer ${this.#options.consumer ?? DEFAULTS.consumer} stopped receiving: the connection is closed`);
    } finally {
      clearInterval(keepAlive);
      signal.removeEventListener('abort', stop);
      logger.debug({ held: held.size }, 'NATS consumer stopped');
    }
  }

  async #deliver(message: JsMsg, handle: (delivery: Delivery) => Promise<Verdict>): Promise<void> {
    const { logger } = this.#options;
    const delivery: Delivery = {
      message: {
        id: message.headers?.get('Nats-Msg-Id') ?? '',
        key: message.headers?.get(HEADERS.key) || keyOfSubject(message.subject),
        type: message.headers?.get(HEADERS.type) ?? '',
        body: message.data,
      },
      deliveryCount: message.info.deliveryCount,
      sequence: message.seq,
      latest: () => this.#latest(message.subject),
    };
    let verdict: Verdict;
    try {
      verdict = await handle(delivery);
    } catch (error) {
      // A handler is meant to return a verdict; a throw is a bug, retried later rather than lost or spun on.
      logger.error({ id: delivery.message.id, err: (error as Error).message }, 'the message handler failed; the message is redelivered in 30 s');
      verdict = { kind: 'retry', delayMs: 30_000 };
    }
    const maxDeliver = this.#options.maxDeliver ?? DEFAULTS.maxDeliver;
    if (verdict.kind === 'retry' && maxDeliver > 0 && delivery.deliveryCount >= maxDeliver) {
      verdict = { kind: 'dead', reason: `still failing after ${delivery.deliveryCount} deliveries, the consumer's max deliver` };
    }
    switch (verdict.kind) {
      case 'ack':
        await message.ackAck().catch((error: unknown) => logger.warn({ id: delivery.message.id, err: (error as Error).message }, 'NATS did not confirm an ack; the message may come again'));
        return;
      case 'retry':
        message.nak(verdict.delayMs);
        return;
      case 'dead':
        await this.#deadLetter(message, delivery, verdict.reason);
    }
  }

  async #latest(subject: string): Promise<{ sequence: number; body: Uint8Array } | undefined> {
    const jsm = await this.#js.jetstreamManager();
    const stored = await jsm.streams.getMessage(this.#options.stream ?? DEFAULTS.stream, { last_by_subj: subject });
    return stored ? { sequence: stored.seq, body: stored.data } : undefined;
  }

  /** The copy first, then term(): a message is never terminated without its copy kept. */
  async #deadLetter(message: JsMsg, delivery: Delivery, reason: string): Promise<void> {
    const { logger, cluster } = this.#options;
    const subject = subjectsOf(cluster).deadLetter;
    const header = headers();
    // The server acts on Nats-* headers (an id to deduplicate, an expected stream or sequence to check): not copied.
    for (const [name, values] of message.headers ?? []) if (!/^nats-/i.test(name)) for (const value of values) header.append(name, value);
    header.set(DEAD_LETTER_HEADERS.reason, headerValue(reason));
    header.set(DEAD_LETTER_HEADERS.subject, message.subject);
    header.set(DEAD_LETTER_HEADERS.sequence, String(message.seq));
    // The id makes a second copy of the same stored message (a retry here, a redelivery) a duplicate.
    const copy = (body: Uint8Array) => this.#js.publish(subject, body, { msgID: `dead-letter.${message.seq}`, headers: header });
    try {
      await copy(message.data).catch((error: unknown) => {
        if (!(error instanceof Error && error.name === 'InvalidArgumentError')) throw error;
        // Too large with the added headers (a foreign message at the size limit): keep the headers and say so.
        header.set(DEAD_LETTER_HEADERS.body, `dropped: ${message.data.length} bytes do not fit with the dead-letter headers`);
        return copy(new Uint8Array(0));
      });
    } catch (error) {
      logger.warn({ id: delivery.message.id, err: (error as Error).message }, 'could not copy a poison message to the dead letter yet; it comes back in 5 s');
      message.nak(5000);
      return;
    }
    message.term();
    logger.error(
      { id: delivery.message.id, type: delivery.message.type, subject: message.subject, sequence: message.seq, deliveryCount: delivery.deliveryCount, reason, deadLetter: subject },
      `dead-lettered a message: ${reason}`,
    );
  }
}
