import type { CmdbRecord } from '../pod/record.ts';
import type { TimeBudget } from '../retry/time-budget.ts';
import type { OptionSpec } from '../settings/option.ts';
import type { SettingReader } from '../settings/read-settings.ts';
import type { CmdbConnection } from './connection.ts';

/** What the CMDB said, in a few words for the summary line, e.g. "201 Created". */
export interface WriteResult {
  detail: string;
  /** remove: the record was not there (404, 410, nothing found), which is success too. */
  alreadyGone?: boolean;
  /** remove, retire: the record found is not this incarnation's (another pod UID owns it); it was left as it is. */
  leftAlone?: string;
}

export type Operation = 'upsert' | 'remove' | 'retire';

/** One page of the records a CMDB holds for a cluster that cmdb-hook wrote. */
export interface RecordPage {
  /**
   * The cluster's records, ordered by id (ids are ASCII, compared as strings). Their identity and owner (id, cluster,
   * pod.uid, container, agent) are checked; the other names are as the CMDB keeps them.
   */
  items: CmdbRecord[];
  /** The id to pass as `after` for the next page; null on the last page. */
  next: string | null;
  /** Why each item of the answer that is not such a record was left out: it is not trusted and not returned. */
  skipped: string[];
}

/**
 * A CMDB behind one small interface. Each call is ONE attempt within its time budget, which may send several
 * requests (look up, then write): it throws CmdbUnavailableError (transient, retried by src/retry/with-retry.ts) or
 * CmdbRejectedError (permanent), and running it again after a failure must be safe (idempotent). The record's pod
 * UID and container are the identity: nothing that belongs to another pod UID is ever changed or removed.
 */
export interface CmdbBackend {
  /** Creates or replaces the record (state `ready`); running it twice leaves one record. */
  upsert(record: CmdbRecord, budget: TimeBudget): Promise<WriteResult>;
  /** Removes the record; a record that is already gone is success. */
  remove(record: CmdbRecord, budget: TimeBudget): Promise<WriteResult>;
  /** Keeps the record but marks it gone (state `terminated`, or the CMDB's own retired status). */
  retire(record: CmdbRecord, budget: TimeBudget): Promise<WriteResult>;
  /** What an operation would send, secrets masked, for --dry-run (for look-up-then-write backends: the look-ups
   *  and both possible writes). */
  plan(operation: Operation, record: CmdbRecord): unknown;
  /** Loads what the first request needs, so register can do it while the app is still starting. */
  warmUp(): Promise<void>;
  /** Throws ConfigError when the record lacks what this CMDB needs (NetBox: a pod IP), before register waits. */
  check?(record: CmdbRecord): void;
  /**
   * One page of the records of `cluster` that cmdb-hook wrote, those with ids after `after` (exclusive; from the
   * first when undefined): what the controller compares with the pods it sees. One attempt like the others, so the
   * retry layer retries a page, not the whole listing. A page that gives no way forward (a `next` not after `after`)
   * is a CmdbRejectedError, so paging always ends. Backends without it cannot serve the controller yet.
   */
  list?(cluster: string, budget: TimeBudget, after?: string): Promise<RecordPage>;
  /**
   * What of a record this CMDB keeps, in one canonical form, for backends whose list() gives back less than was
   * written (NetBox: no node, labels or annotations; ServiceNow: one CI per pod, listed as `<pod uid>_*`). The
   * controller compares comparable(listed) with comparable(desired), so a fact the CMDB cannot hold is never a
   * reason to write again. Its id is the one list() gives. Default: the record itself.
   */
  comparable?(record: CmdbRecord): CmdbRecord;
}

/** What a run will ask of the backend, so it can refuse at start what it could not do (a template without retire). */
export interface BackendUse {
  operations: readonly Operation[];
}

/**
 * One `--cmdb-kind`: its own settings and their checks, its defaults, and how to open it. `configure` runs when the
 * config is built (flag mistakes are exit 2 before anything runs); the function it returns runs once the pod is
 * known, reads the files the settings name (token, password, template) and makes the backend.
 */
export interface BackendSpec {
  readonly kind: string;
  /** The settings that belong to this kind alone; giving one with another kind is a config error. */
  readonly options: readonly OptionSpec[];
  /** What deregister does when --deregister-action is not given. */
  readonly deregisterAction: 'delete' | 'retire';
  configure(read: SettingReader, connection: CmdbConnection, use: BackendUse): () => CmdbBackend;
}
