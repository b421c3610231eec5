import type amqp from 'amqplib';
import type { Logger } from '../../logger.ts';
import type { Publisher, QueueMessage } from '../transport.ts';
import type { AmqpConnection } from './amqp-connection.ts';
import { BrokerUnavailableError } from '../broker-errors.ts';
import { amqpReason } from './amqp-errors.ts';
import { routingKeyOf, type AmqpNames } from './amqp-topology.ts';

/** The header that carries QueueMessage.key, so the consumer need not parse it back out of the routing key. */
export const KEY_HEADER = 'cmdb-hook-key';

class ChannelLost extends Error {}

// Why the broker closed a channel, when it did (amqplib emits 'error' just before it fails the pending confirms).
const closedBy = new WeakMap<amqp.Channel, Error>();

/**
 * Publishes on a confirm channel: `publish` resolves only once the broker confirmed the message, which for a
 * persistent message in a quorum queue means a majority of its replicas wrote it. Mandatory: a message that no queue
 * takes comes back (basic.return, before its ack) and counts as refused, never as sent. When the connection drops
 * before the confirm, nobody knows whether the broker kept the message, so it is published again on the next
 * connection: at-least-once, and RabbitMQ has no broker-side deduplication, so the consumer must be idempotent.
 * While the broker is away, at most `maxWaiting` publishes wait for it; the rest are refused at once.
 */
export class AmqpPublisher implements Publisher {
  readonly #connection: AmqpConnection;
  readonly #names: AmqpNames;
  readonly #logger: Logger;
  readonly #broker: string;
  readonly #maxWaiting: number;
  #channel: Promise<amqp.ConfirmChannel> | undefined;
  #waiting = 0;
  // message-id -> why the broker returned it, until its confirm arrives.
  readonly #returned = new Map<string, string[]>();
  #closed = false;
  // Ends the wait for a channel when the publisher closes; each caller's own signal ends only its own wait.
  readonly #stop = new AbortController();

  constructor(options: { connection: AmqpConnection; names: AmqpNames; logger: Logger; broker: string; maxWaiting: number }) {
    this.#connection = options.connection;
    this.#names = options.names;
    this.#logger = options.logger;
    this.#broker = options.broker;
    this.#maxWaiting = options.maxWaiting;
  }

  async publish(message: QueueMessage, signal: AbortSignal): Promise<{ duplicate: boolean }> {
    for (;;) {
      if (this.#closed) throw new BrokerUnavailableError(`the publisher to ${this.#broker} is closed`);
      if (signal.aborted) throw new BrokerUnavailableError(`${this.#broker} did not confirm message ${message.id} in time`, { cause: signal.reason });
      const channel = await this.#waitForChannel(signal);
      try {
        await this.#publishOn(channel, message, signal);
        // RabbitMQ cannot tell a duplicate: every confirmed publish is a new message.
        return { duplicate: false };
      } catch (error) {
        if (!(error instanceof ChannelLost)) throw error;
        this.#logger.debug({ id: message.id, reason: error.message }, 'the channel closed before the broker confirmed; publishing again');
      }
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#stop.abort();
    const channel = await this.#channel?.catch(() => undefined);
    this.#channel = undefined;
    await channel?.close().catch(() => {});
  }

  async #waitForChannel(signal: AbortSignal): Promise<amqp.ConfirmChannel> {
    if (this.#waiting >= this.#maxWaiting) {
      throw new BrokerUnavailableError(`${this.#broker} is unreachable and ${this.#maxWaiting} messages already wait for it; try again later`);
    }
    this.#waiting += 1;
    let opening = this.#channel;
    if (!opening) {
      const created = this.#openChannel(this.#stop.signal);
      created.catch(() => {
        if (this.#channel === created) this.#channel = undefined;
      });
      opening = this.#channel = created;
    }
    let onAbort: (() => void) | undefined;
    try {
      return await Promise.race([opening, new Promise<never>((_, reject) => {
        onAbort = () => reject(new BrokerUnavailableError(`${this.#broker} could not be reached in time; is the broker up?`, { cause: signal.reason }));
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
      })]);
    } finally {
      if (onAbort) signal.removeEventListener('abort', onAbort);
      this.#waiting -= 1;
    }
  }

  async #openChannel(signal: AbortSignal): Promise<amqp.ConfirmChannel> {
    const channel = await this.#connection.confirmChannel(signal);
    const mine = this.#channel;
    channel.on('close', () => {
      if (this.#channel === mine) this.#channel = undefined;
    });
    // A channel error (a 404 for an exchange deleted meanwhile) also closes it; unheard, it would crash the process.
    channel.on('error', (error: Error) => {
      closedBy.set(channel, error);
      this.#logger.warn({ broker: this.#broker, reason: amqpReason(error) }, 'the broker closed the publishing channel');
    });
    channel.on('return', (returned: amqp.Message) => {
      const id = String(returned.properties.messageId);
      this.#returned.set(id, [...(this.#returned.get(id) ?? []), replyTextOf(returned)]);
    });
    return channel;
  }

  #publishOn(channel: amqp.ConfirmChannel, message: QueueMessage, signal: AbortSignal): Promise<void> {
    const routingKey = routingKeyOf(this.#names, message.key);
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new BrokerUnavailableError(`${this.#broker} did not confirm message ${message.id} in time`, { cause: signal.reason }));
      signal.addEventListener('abort', onAbort, { once: true });
      const settle = (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        const returns = this.#returned.get(message.id);
        const why = returns?.shift();
        if (returns?.length === 0) this.#returned.delete(message.id);
        const refusal = closedBy.get(channel);
        if (refusal) {
          // The broker closed the channel over this publish (404: the exchange is missing): publishing it again
          // would only fail again, at once, so it is refused, for the caller's own backoff.
          reject(new BrokerUnavailableError(`${this.#broker} refused message ${message.id} on exchange ${JSON.stringify(this.#names.exchange)}: ${amqpReason(refusal)}; declare it first, or check --amqp-exchange`, { cause: refusal }));
        } else if (error instanceof Error && error.message === 'channel closed') reject(new ChannelLost('channel closed'));
        else if (error) reject(new BrokerUnavailableError(`${this.#broker} refused message ${message.id} (${amqpReason(error)}); the queue may be full`, { cause: error }));
        else if (why !== undefined) {
          reject(new BrokerUnavailableError(`${this.#broker} routed message ${message.id} (${routingKey}) to no queue (${why}); declare the queue first, or check --amqp-exchange and --cluster`));
        } else resolve();
      };
      try {
        // The returned false only means amqplib's buffer is full; the message is buffered and will be sent.
        channel.publish(this.#names.exchange, routingKey, Buffer.from(message.body), {
          mandatory: true,
          persistent: true,
          messageId: message.id,
          type: message.type,
          contentType: 'application/cloudevents+json',
          timestamp: Math.floor(Date.now() / 1000),
          headers: { [KEY_HEADER]: message.key },
        }, settle);
      } catch (error) {
        // amqplib throws at once on a channel that has already closed.
        signal.removeEventListener('abort', onAbort);
        reject(new ChannelLost(amqpReason(error)));
      }
    });
  }
}

/** Why the broker returned a message (NO_ROUTE); amqplib's types omit the field it does fill in. */
function replyTextOf(returned: amqp.Message): string {
  const text: unknown = (returned.fields as { replyText?: unknown }).replyText;
  return typeof text === 'string' ? text : 'returned';
}
