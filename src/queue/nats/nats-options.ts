/**
 * The settings of the JetStream transport, their defaults, and the subjects it uses. Secrets and the CA come as file
 * paths only (--nats-token-file, --nats-creds-file, --nats-ca-file), never as values.
 *
 * Subjects, all under the stream's `cmdb-hook.<cluster>.>`:
 * - `cmdb-hook.<cluster>.record.<record id>`: one subject per record, so JetStream keeps each record's transitions in
 *   publish order on its own subject (and could answer "the last message of this record").
 * - `cmdb-hook.<cluster>.cluster.inventory`: the inventory chunks.
 * - `cmdb-hook.<cluster>.dead-letter`: copies of terminated messages. The same stream keeps them (under its limits,
 *   where an operator lists them by subject), and the durable consumer does not see them: it filters on
 *   `cmdb-hook.<cluster>.*.>`, which needs at least two tokens after the cluster, and `dead-letter` is one. A single
 *   filter subject is all nats-server 2.9 takes (`filter_subjects` needs 2.10), and a separate dead-letter stream
 *   could not capture a subject the main stream's `cmdb-hook.<cluster>.>` already captures (streams may not overlap).
 */
import { ConfigError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { settingName } from '../../settings/option.ts';
import { RECORD_ID } from '../record-shape.ts';
import { INVENTORY_SUBJECT } from '../inventory.ts';

export interface NatsOptions {
  /** --nats-url: one or more `nats://host:port`, comma-separated; no credentials in it. */
  readonly url: string;
  /** --cluster: one token of every subject. */
  readonly cluster: string;
  /** --nats-stream, default `CMDB_HOOK`. */
  readonly stream?: string;
  /** --nats-consumer: the durable pull consumer, default `cmdb-hook`. */
  readonly consumer?: string;
  readonly tokenFile?: string;
  readonly credsFile?: string;
  readonly caFile?: string;
  /**
   * Which side this process is. Both create what is missing; only the consumer side updates the durable consumer's
   * tunables to its own settings, so a publisher with other defaults never fights it.
   */
  readonly side: 'publish' | 'consume';
  /** How long JetStream remembers a message id to drop a duplicate: default 10 min (see DEFAULTS). */
  readonly duplicateWindowMs?: number;
  /** How long the stream keeps a message (dead letters included): default 7 days. */
  readonly maxAgeMs?: number;
  /** How long a delivery may stay unacknowledged before JetStream redelivers it: default 30 s. */
  readonly ackWaitMs?: number;
  /** Deliveries before JetStream gives up on a message: default -1, never (a CMDB outage must not lose anything). */
  readonly maxDeliver?: number;
  /** Redelivery delays after an ack timeout; needs maxDeliver > its length (nats-server refuses otherwise). */
  readonly backoffMs?: readonly number[];
  /** Deliveries in flight across all consumers of the durable: default 1000. */
  readonly maxAckPending?: number;
  /** How long one publish waits for its PubAck before it is sent again: default 5 s. */
  readonly publishTimeoutMs?: number;
  readonly logger: Logger;
}

export const DEFAULTS = {
  stream: 'CMDB_HOOK',
  consumer: 'cmdb-hook',
  // Long enough for a leader handover (a Lease of 15 s) and the relist after a broker outage of a few minutes to
  // re-send inside it; past it, the consumer's own idempotence (same facts as applied last: no write) takes over.
  duplicateWindowMs: 10 * 60_000,
  maxAgeMs: 7 * 24 * 3_600_000,
  ackWaitMs: 30_000,
  maxDeliver: -1,
  maxAckPending: 1000,
  publishTimeoutMs: 5000,
} as const;

/** A subject token: no dot, no wildcard, no space (nats-server's subject rules). */
const TOKEN = /^[^.*>\s]+$/;

export interface Subjects {
  readonly stream: string;
  readonly filter: string;
  readonly deadLetter: string;
  of(key: string): string;
}

export function subjectsOf(cluster: string): Subjects {
  if (!TOKEN.test(cluster)) {
    throw new ConfigError(`${settingName('cluster')} ${JSON.stringify(cluster)} cannot be part of a NATS subject (no dot, * or > or space); choose a name without them`);
  }
  const base = `cmdb-hook.${cluster}`;
  return {
    stream: `${base}.>`,
    filter: `${base}.*.>`,
    deadLetter: `${base}.dead-letter`,
    of(key) {
      if (key === INVENTORY_SUBJECT) return `${base}.cluster.inventory`;
      if (RECORD_ID.test(key)) return `${base}.record.${key}`;
      throw new TypeError(`message key ${JSON.stringify(key)} is neither a record id nor "${INVENTORY_SUBJECT}"`);
    },
  };
}

/** The key a subject was published under, the reverse of Subjects.of. */
export function keyOfSubject(subject: string): string {
  const tokens = subject.split('.');
  if (tokens[2] === 'cluster' && tokens[3] === 'inventory') return INVENTORY_SUBJECT;
  return tokens.slice(3).join('.');
}

/** The servers of --nats-url; credentials in it are refused (they would show in argv, logs and errors). */
export function serversOf(url: string): string[] {
  const servers = url.split(',').map((server) => server.trim()).filter(Boolean);
  if (servers.length === 0) throw new ConfigError(`${settingName('nats-url')} is required: the NATS server, e.g. nats://nats.messaging:4222`);
  for (const server of servers) {
    let parsed: URL;
    try {
      parsed = new URL(server.includes('://') ? server : `nats://${server}`);
    } catch {
      throw new ConfigError(`${settingName('nats-url')} holds a server that is not a URL; give nats://host:port (comma-separated for several)`);
    }
    if (parsed.username || parsed.password) {
      throw new ConfigError(`${settingName('nats-url')} must not carry credentials; put the token in the file --nats-token-file names, or use --nats-creds-file`);
    }
  }
  return servers;
}
