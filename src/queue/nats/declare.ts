/**
 * Declares the stream and the durable pull consumer, idempotently and safely on nats-server 2.9: info first, create
 * only when missing. `consumers.add` on an existing durable with another config silently replaces it on 2.9 (the
 * client's `action: "create"`, which makes the server refuse a different config, is honoured only from 2.10:
 * nats-server PR #4217), so it is never called on an existing one. An existing consumer that differs in what it
 * delivers (filter, ack or deliver policy, push instead of pull) is refused with a config error; one that differs
 * only in its tunables (ack wait, max deliver, backoff, max ack pending) is updated by the consumer side, with a log
 * line saying from what to what. Two processes declaring at the same moment can still both see "missing" and both
 * create: with the same config that is harmless on every version.
 */
import { nanos, type NatsConnection } from '@nats-io/transport-node';
import { AckPolicy, DeliverPolicy, DiscardPolicy, jetstreamManager, RetentionPolicy, StorageType, type ConsumerConfig, type JetStreamManager, type StreamConfig } from '@nats-io/jetstream';
import { ConfigError } from '../../errors.ts';
import { settingName } from '../../settings/option.ts';
import { DEFAULTS, subjectsOf, type NatsOptions } from './nats-options.ts';

const notFound = (error: unknown) => error instanceof Error && /StreamNotFound|ConsumerNotFound/.test(error.name);

/** A subject pattern covers another when every subject the second matches, the first matches too. */
export function covers(pattern: string, subject: string): boolean {
  const wanted = subject.split('.');
  const tokens = pattern.split('.');
  for (let index = 0; index < tokens.length; index++) {
    const token = tokens[index];
    if (token === '>') return index < wanted.length;
    if (index >= wanted.length || wanted[index] === '>') return false;
    if (token !== '*' && token !== wanted[index]) return false;
  }
  return tokens.length === wanted.length;
}

export function desiredConsumer(options: NatsOptions): Partial<ConsumerConfig> & { durable_name: string } {
  const backoff = (options.backoffMs ?? []).map((ms) => nanos(ms));
  const maxDeliver = options.maxDeliver ?? DEFAULTS.maxDeliver;
  if (backoff.length > 0 && !(maxDeliver > backoff.length)) {
    throw new ConfigError(`the consumer's max deliver (${maxDeliver}) must be greater than its ${backoff.length} backoff delays (nats-server refuses otherwise)`);
  }
  return {
    durable_name: options.consumer ?? DEFAULTS.consumer,
    ack_policy: AckPolicy.Explicit,
    deliver_policy: DeliverPolicy.All,
    filter_subject: subjectsOf(options.cluster).filter,
    // With a backoff, the server takes its first delay as the ack wait and reports that.
    ack_wait: backoff[0] ?? nanos(options.ackWaitMs ?? DEFAULTS.ackWaitMs),
    max_deliver: maxDeliver,
    ...(backoff.length > 0 ? { backoff } : {}),
    max_ack_pending: options.maxAckPending ?? DEFAULTS.maxAckPending,
  };
}

async function declareStream(jsm: JetStreamManager, options: NatsOptions): Promise<void> {
  const name = options.stream ?? DEFAULTS.stream;
  const { stream: subject } = subjectsOf(options.cluster);
  const window = nanos(options.duplicateWindowMs ?? DEFAULTS.duplicateWindowMs);
  const existing = await jsm.streams.info(name).catch((error: unknown) => {
    if (notFound(error)) return undefined;
    throw error;
  });
  if (!existing) {
    const config: Partial<StreamConfig> & { name: string } = {
      name, subjects: [subject], storage: StorageType.File, retention: RetentionPolicy.Limits, discard: DiscardPolicy.Old,
      duplicate_window: window, max_age: nanos(options.maxAgeMs ?? DEFAULTS.maxAgeMs), num_replicas: 1,
    };
    await jsm.streams.add(config);
    options.logger.info({ stream: name, subjects: config.subjects }, 'created the NATS stream');
    return;
  }
  const subjects = existing.config.subjects ?? [];
  const missing = !subjects.some((pattern) => covers(pattern, subject));
  const shortWindow = existing.config.duplicate_window < window;
  if (!missing && !shortWindow) return;
  // Only ever widened: a subject added (another cluster sharing the stream), a longer duplicate window.
  await jsm.streams.update(name, { subjects: missing ? [...subjects, subject] : subjects, duplicate_window: shortWindow ? window : existing.config.duplicate_window });
  options.logger.warn({ stream: name, addedSubject: missing ? subject : undefined, duplicateWindowNs: shortWindow ? window : undefined }, 'widened the NATS stream');
}

const STRUCTURAL = ['filter_subject', 'ack_policy', 'deliver_policy'] as const;
const TUNABLE = ['ack_wait', 'max_deliver', 'backoff', 'max_ack_pending'] as const;

async function declareConsumer(jsm: JetStreamManager, options: NatsOptions): Promise<void> {
  const stream = options.stream ?? DEFAULTS.stream;
  const desired = desiredConsumer(options);
  const name = desired.durable_name;
  const existing = await jsm.consumers.info(stream, name).catch((error: unknown) => {
    if (notFound(error)) return undefined;
    throw error;
  });
  if (!existing) {
    await jsm.consumers.add(stream, desired);
    options.logger.info({ stream, consumer: name, filter: desired.filter_subject }, 'created the NATS consumer');
    return;
  }
  const config = existing.config;
  const structural = STRUCTURAL.filter((key) => config[key] !== desired[key]).map((key) => `${key} ${JSON.stringify(config[key])} (needs ${JSON.stringify(desired[key])})`);
  if (config.deliver_subject) structural.push(`it is a push consumer (deliver_subject ${JSON.stringify(config.deliver_subject)}), not a pull consumer`);
  if (structural.length > 0) {
    throw new ConfigError(
      `${settingName('nats-consumer')} ${JSON.stringify(name)} on stream ${stream} exists with another config: ${structural.join('; ')}. ` +
        `It is not replaced: delete it (nats consumer rm ${stream} ${name}) if nothing else uses it, or name another consumer`,
    );
  }
  const same = (key: (typeof TUNABLE)[number]) => JSON.stringify(config[key] ?? []) === JSON.stringify(desired[key] ?? []);
  const changed = TUNABLE.filter((key) => !same(key));
  if (changed.length === 0) return;
  const from = Object.fromEntries(changed.map((key) => [key, config[key] ?? null]));
  const to = Object.fromEntries(changed.map((key) => [key, desired[key] ?? null]));
  if (options.side !== 'consume') {
    options.logger.info({ stream, consumer: name, existing: from, publisherDefaults: to }, 'the NATS consumer has other tunables than this publisher\'s; left as the consumer side set them');
    return;
  }
  await jsm.consumers.update(stream, name, { ack_wait: desired.ack_wait, max_deliver: desired.max_deliver, backoff: desired.backoff ?? [], max_ack_pending: desired.max_ack_pending });
  options.logger.warn({ stream, consumer: name, from, to }, 'updated the NATS consumer\'s tunables to this consumer\'s settings');
}

export async function declareNats(connection: NatsConnection, options: NatsOptions): Promise<void> {
  const jsm = await jetstreamManager(connection);
  await declareStream(jsm, options);
  await declareConsumer(jsm, options);
}
