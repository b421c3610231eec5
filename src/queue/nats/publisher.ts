/**
 * Publishes with `Nats-Msg-Id` = the event id and resolves only on the stream's PubAck. A publish the broker did not
 * confirm (a timeout while it restarts, no responders while the stream is not back yet, a connection being
 * re-established) is sent again with the same id until the caller's signal aborts: JetStream drops the second copy
 * inside its duplicate window, so a lost PubAck never stores a message twice. `duplicate: true` says the stream
 * already held that id, from another publisher or from an earlier attempt of this one whose PubAck was lost.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { headers, type NatsConnection } from '@nats-io/transport-node';
import { jetstream, type JetStreamClient } from '@nats-io/jetstream';
import { BrokerRejectedError, BrokerUnavailableError } from '../broker-errors.ts';
import { CONTENT_TYPE } from '../event.ts';
import type { Publisher, QueueMessage } from '../transport.ts';
import { DEFAULTS, subjectsOf, type NatsOptions } from './nats-options.ts';

/** Headers beside the body, so a dead-letter log or an operator's `nats stream view` need not parse it. */
export const HEADERS = { type: 'Cmdb-Hook-Type', key: 'Cmdb-Hook-Key' } as const;

/**
 * Whether another attempt may succeed. The JetStream API's own refusals (a message over the size limit, an
 * expectation that does not hold) will not change by retrying; everything about reaching the server may.
 */
function transient(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  // The client's own checks, e.g. "'payload' max_payload size exceeded": headers and body over the server's limit.
  if (error.name === 'InvalidArgumentError') return false;
  if (error.name === 'JetStreamApiError') return /not enabled|no responders|unavailable|leader/i.test(error.message);
  return true;
}

export class NatsPublisher implements Publisher {
  readonly #js: JetStreamClient;
  readonly #options: NatsOptions;

  constructor(connection: NatsConnection, options: NatsOptions) {
    this.#options = options;
    this.#js = jetstream(connection, { timeout: options.publishTimeoutMs ?? DEFAULTS.publishTimeoutMs });
  }

  async publish(message: QueueMessage, signal: AbortSignal): Promise<{ duplicate: boolean }> {
    const subject = subjectsOf(this.#options.cluster).of(message.key);
    const header = headers();
    header.set('Content-Type', CONTENT_TYPE);
    header.set(HEADERS.type, message.type);
    header.set(HEADERS.key, message.key);
    let delay = 100;
    for (let attempt = 1; ; attempt++) {
      signal.throwIfAborted();
      try {
        const ack = await this.#js.publish(subject, message.body, { msgID: message.id, headers: header, expect: { streamName: this.#options.stream ?? DEFAULTS.stream } });
        if (attempt > 1) this.#options.logger.info({ id: message.id, attempt, duplicate: ack.duplicate }, 'NATS confirmed the message after retrying');
        return { duplicate: ack.duplicate };
      } catch (error) {
        if (error instanceof Error && error.name === 'ClosedConnectionError') {
          // Closed for good (closed by this process, or the client gave up): no attempt on it can succeed.
          throw new BrokerUnavailableError(`NATS did not confirm message ${message.id}: the connection is closed`, { cause: error });
        }
        if (!transient(error)) {
          throw new BrokerRejectedError(`NATS refused message ${message.id} on ${subject}: ${(error as Error).message}`, { cause: error });
        }
        this.#options.logger.debug({ id: message.id, attempt, err: (error as Error).message }, 'NATS did not confirm the message; sending it again');
        try {
          await sleep(delay, undefined, { signal });
        } catch {
          throw new BrokerUnavailableError(`NATS did not confirm message ${message.id} after ${attempt} attempts: ${(error as Error).message}`, { cause: error });
        }
        delay = Math.min(delay * 2, 2000);
      }
    }
  }

  async close(): Promise<void> {
    // The connection belongs to the transport, which closes it.
  }
}
