/**
 * What the consumer knows was applied last to each record: the state (`gone`, or the facts digest) and the pod version
 * of that transition. apply-delivery.ts never writes a transition over a newer one it knows of.
 *
 * This process's own writes are only the whole truth while it holds the queue without a break. RabbitMQ hands the
 * queue to another consumer when this one's channel ends (single active consumer), and that one may apply newer
 * transitions meanwhile; a consumer that takes over after a crash knows nothing of what the last one applied. Then an
 * older copy of a transition that a second publisher put behind the newer one would be written. So each time the
 * transport starts a new session (Delivery.session: RabbitMQ, a new channel), the memory is dropped and read back from
 * the CMDB: every record of the cluster, with the pod version the consumer wrote into it (`pod.resourceVersion`).
 * Brokers that can tell the latest message of a record (Delivery.latest, JetStream) need none of this.
 *
 * What the CMDB cannot give back is not known: a record deleted (not retired) leaves nothing to read, and a backend
 * that does not keep `pod.resourceVersion` (NetBox, ServiceNow) or cannot list gives states without versions.
 */
import type { CmdbBackend } from '../../cmdb/backend.ts';
import { listRecords } from '../../cluster/record-listing.ts';
import type { Logger } from '../../logger.ts';
import type { CmdbRecord } from '../../pod/record.ts';
import { factsDigest } from '../event.ts';

export interface Applied {
  state: string;
  version: bigint | undefined;
}

export interface AppliedMemoryOptions {
  cluster: string;
  backend(): CmdbBackend;
  attemptTimeoutMs: number;
  signal: AbortSignal;
  log: Logger;
  /** How long reading the memory back may take, retries included, before the delivery is tried again later. */
  readBackMs?: number;
}

/**
 * Records remembered, the oldest forgotten first: beyond that, a record's older copy may be written again; what keeps
 * it right then is the backends' idempotent writes and the next transition of its pod.
 */
const REMEMBERED = 100_000;
const READ_BACK_MS = 60_000;

export function appliedOf(record: CmdbRecord, version: bigint | undefined): Applied {
  return { state: record.state === 'terminated' ? 'gone' : factsDigest(record), version };
}

/** The pod version a record carries, when it is one the consumer stamped (a positive integer). */
export function stampedVersion(record: CmdbRecord): bigint | undefined {
  const value = record.pod?.resourceVersion;
  return typeof value === 'string' && /^[1-9][0-9]{0,30}$/.test(value) ? BigInt(value) : undefined;
}

export class AppliedMemory {
  readonly #options: AppliedMemoryOptions;
  readonly #applied = new Map<string, Applied>();
  #session: number | undefined;
  #reading: Promise<void> | undefined;

  constructor(options: AppliedMemoryOptions) {
    this.#options = options;
  }

  /**
   * Makes the memory fit for a delivery of `session`: on a session later than the last, drops it and reads it back from
   * the CMDB (once, whichever delivery asks first; the others wait for it). Throws what the listing threw (a
   * transient CMDB failure: the delivery is retried, and the next one reads again).
   */
  async ready(session: number | undefined): Promise<void> {
    // A later session only: a delivery of an earlier one still being handled cannot be settled anyway.
    if (session !== undefined && (this.#session === undefined || session > this.#session)) {
      this.#session = session;
      this.#applied.clear();
      this.#reading = this.#readBack();
    }
    try {
      await this.#reading;
    } catch (error) {
      this.#reading = undefined;
      this.#session = undefined;
      throw error;
    }
  }

  get(id: string): Applied | undefined {
    return this.#applied.get(id);
  }

  set(id: string, applied: Applied): void {
    this.#applied.delete(id);
    this.#applied.set(id, applied);
    if (this.#applied.size > REMEMBERED) this.#applied.delete(this.#applied.keys().next().value as string);
  }

  async #readBack(): Promise<void> {
    const { cluster, log } = this.#options;
    const backend = this.#options.backend();
    if (!backend.list) return;
    const started = performance.now();
    const listing = await listRecords(backend, { cluster, signal: this.#options.signal, log, attemptTimeoutMs: this.#options.attemptTimeoutMs, withinMs: this.#options.readBackMs ?? READ_BACK_MS });
    for (const record of listing.records.slice(-REMEMBERED)) this.#applied.set(record.id, appliedOf(record, stampedVersion(record)));
    log.info({ records: listing.records.length, pages: listing.pages, ms: Math.round(performance.now() - started) }, `holding the queue anew: read what was applied to ${listing.records.length} records back from the CMDB`);
  }
}
