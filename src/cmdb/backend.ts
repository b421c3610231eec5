import type { CmdbRecord } from '../pod/record.ts';

/**
 * What one attempt may use: the run's deadline signal and the time this attempt is allowed, shared by all the
 * requests it sends (performance.now() by which it must be over).
 */
export interface AttemptContext {
  signal: AbortSignal;
  timeoutMs: number;
  endsAt: number;
}

/** What the CMDB said, in a few words for the summary line, e.g. "201 Created". */
export interface WriteResult {
  detail: string;
  /** remove: the record was not there (404, 410, nothing found), which is success too. */
  alreadyGone?: boolean;
  /** remove, retire: the record found is not this incarnation's (another pod UID owns it); it was left as it is. */
  leftAlone?: string;
}

export type Operation = 'upsert' | 'remove' | 'retire';

/**
 * A CMDB behind one small interface. Each call is ONE attempt, which may send several requests (look up, then write):
 * it throws CmdbUnavailableError (transient, retried by src/retry/with-retry.ts) or CmdbRejectedError (permanent),
 * and running it again after a failure must be safe (idempotent). The record's pod UID and container are the
 * identity: nothing that belongs to another pod UID is ever changed or removed.
 */
export interface CmdbBackend {
  /** Creates or replaces the record (state `ready`); running it twice leaves one record. */
  upsert(record: CmdbRecord, attempt: AttemptContext): Promise<WriteResult>;
  /** Removes the record; a record that is already gone is success. */
  remove(record: CmdbRecord, attempt: AttemptContext): Promise<WriteResult>;
  /** Keeps the record but marks it gone (state `terminated`, or the CMDB's own retired status). */
  retire(record: CmdbRecord, attempt: AttemptContext): Promise<WriteResult>;
  /** What an operation would send, secrets masked, for --dry-run (for look-up-then-write backends: the look-ups
   *  and both possible writes). */
  plan(operation: Operation, record: CmdbRecord): unknown;
  /** Loads what the first request needs, so register can do it while the app is still starting. */
  warmUp(): Promise<void>;
  /** Throws ConfigError when the record lacks what this CMDB needs (NetBox: a pod IP), before register waits. */
  check?(record: CmdbRecord): void;
}
