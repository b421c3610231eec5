/**
 * What the controller's publisher and `cmdb-hook consume` need of a message broker, whichever it is (NATS JetStream,
 * RabbitMQ): declare what they use, publish with the broker's confirmation, and consume with an explicit verdict per
 * delivery. The message itself (CloudEvents, structured JSON) is event.ts's business; a transport carries bytes.
 */

/** One message as the broker carries it. */
export interface QueueMessage {
  /** The CloudEvents id: deterministic per transition, so the broker can drop a duplicate where it can (JetStream's
   *  Nats-Msg-Id); RabbitMQ has no such thing and carries it as message-id for the consumer. */
  readonly id: string;
  /** What the message is about, for routing: the record id, or `inventory`. */
  readonly key: string;
  /** The event type, for routing and dead-letter logs. */
  readonly type: string;
  readonly body: Uint8Array;
}

export interface Delivery {
  readonly message: QueueMessage;
  /** 1 on the first delivery. */
  readonly deliveryCount: number;
  /** The broker's order of publication where it has one (JetStream's stream sequence); RabbitMQ leaves it out. */
  readonly sequence?: number;
  /**
   * The latest message the broker still stores under the same key (JetStream: the last message on the record's
   * subject), where the broker can tell; RabbitMQ leaves it out. It lets a consumer make the latest transition win
   * whatever the order of deliveries: apply the latest rather than this one, then look again and apply again if a
   * newer one arrived meanwhile.
   */
  readonly latest?: () => Promise<{ sequence: number; body: Uint8Array } | undefined>;
  /**
   * Which unbroken hold of the queue the delivery came in (RabbitMQ: a number per consuming channel), where another
   * consumer may have held the queue in between; NATS leaves it out. What a consumer applied in an earlier session
   * may have been overtaken by another consumer since.
   */
  readonly session?: number;
}

/** What the consumer decided: done; try again later (a transient CMDB failure); or never (a poison message). */
export type Verdict = { kind: 'ack' } | { kind: 'retry'; delayMs: number } | { kind: 'dead'; reason: string };

export interface Publisher {
  /** Resolves once the broker confirmed it (JetStream PubAck, RabbitMQ publisher confirm); rejects otherwise. */
  publish(message: QueueMessage, signal: AbortSignal): Promise<{ duplicate: boolean }>;
  close(): Promise<void>;
}

export interface Consumer {
  /** Hands each delivery to `handle` and applies its verdict; runs until `signal` aborts. */
  run(handle: (delivery: Delivery) => Promise<Verdict>, signal: AbortSignal): Promise<void>;
}

export interface Transport {
  /** Creates what both sides use when missing (stream and durable consumer; exchange, queues, binding), idempotently. */
  declare(signal: AbortSignal): Promise<void>;
  publisher(): Publisher;
  consumer(options: { concurrency: number }): Consumer;
  close(): Promise<void>;
}
