import type { CmdbRecord } from '../pod/record.ts';

/** What one attempt may use: the run's deadline signal and the time this attempt is allowed. */
export interface AttemptContext {
  signal: AbortSignal;
  timeoutMs: number;
}

/** What the CMDB said, in a few words for the summary line, e.g. "201 Created". */
export interface WriteResult {
  detail: string;
  /** remove only: the record was not there (404, 410), which is success too. */
  alreadyGone?: boolean;
}

/**
 * A CMDB behind one small interface. Each call is ONE attempt: it throws CmdbUnavailableError (transient, retried by
 * src/retry/with-retry.ts) or CmdbRejectedError (permanent). Retiring a record is an upsert of state `terminated`.
 */
export interface CmdbBackend {
  /** Creates or replaces the record; running it twice leaves one record. */
  upsert(record: CmdbRecord, attempt: AttemptContext): Promise<WriteResult>;
  /** Removes the record; a record that is already gone is success. */
  remove(record: CmdbRecord, attempt: AttemptContext): Promise<WriteResult>;
  /** The request(s) an operation would send, secrets masked, for --dry-run. */
  plan(operation: 'upsert' | 'remove', record: CmdbRecord): unknown;
  /** Loads what the first request needs, so register can do it while the app is still starting. */
  warmUp(): Promise<void>;
}
