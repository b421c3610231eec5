import { CmdbUnavailableError } from '../../errors.ts';
import type { CmdbRecord } from '../../pod/record.ts';
import type { CmdbBackend, Operation, RecordPage, WriteResult } from '../backend.ts';

/** One call to the memory CMDB: a write of one id, or one page of a cluster's list. */
export type MemoryCall = { operation: Operation; id: string } | { operation: 'list'; cluster: string; after: string | undefined };

export interface MemoryBackendOptions {
  /** The most records one `list` page holds (default 500, the protocol's largest page). */
  pageSize?: number;
}

/**
 * A CMDB in memory, behind the same interface: for in-process tests (and the controller's), where a real server adds
 * nothing. It keeps records by id, refuses nothing, and can be told to fail transiently. It is no `--cmdb-kind`: a
 * hook's process ends with the run, and the memory with it.
 */
export interface MemoryBackend extends CmdbBackend {
  readonly records: ReadonlyMap<string, CmdbRecord>;
  /** Every call, in order. */
  readonly calls: readonly MemoryCall[];
  /** The next `times` calls fail as a CMDB outage would (transient: the retry layer tries again). */
  failNext(times: number): void;
  /** Never refuses: every record here was written through this interface. */
  list: NonNullable<CmdbBackend['list']>;
}

export function createMemoryBackend(options: MemoryBackendOptions = {}): MemoryBackend {
  const pageSize = options.pageSize ?? 500;
  const records = new Map<string, CmdbRecord>();
  const calls: MemoryCall[] = [];
  let failures = 0;
  const call = <T>(entry: MemoryCall, answer: () => T): Promise<T> => {
    calls.push(entry);
    if (failures > 0) {
      failures--;
      const what = entry.operation === 'list' ? `list ${entry.cluster}` : `${entry.operation} ${entry.id}`;
      return Promise.reject(new CmdbUnavailableError(`memory CMDB: ${what} failed as asked`));
    }
    return Promise.resolve(answer());
  };
  const write = (operation: Operation, record: CmdbRecord, answer: () => WriteResult) => call({ operation, id: record.id }, answer);
  // The same paging as protocol v1: ordered by id, `after` exclusive, `next` the last id while more follow.
  const page = (cluster: string, after: string | undefined): RecordPage => {
    const ids = [...records.values()]
      .filter((record) => record.cluster === cluster && (after === undefined || record.id > after))
      .map((record) => record.id)
      .sort();
    const taken = ids.slice(0, pageSize);
    const items = taken.map((id) => structuredClone(records.get(id) as CmdbRecord));
    return { items, next: ids.length > pageSize ? (taken.at(-1) ?? null) : null, skipped: [] };
  };
  return {
    records,
    calls,
    failNext: (times) => void (failures = times),
    upsert: (record) =>
      write('upsert', record, () => {
        const existed = records.has(record.id);
        records.set(record.id, structuredClone(record));
        return { detail: existed ? 'replaced' : 'created' };
      }),
    remove: (record) => write('remove', record, () => (records.delete(record.id) ? { detail: 'deleted' } : { detail: 'not found', alreadyGone: true })),
    retire: (record) =>
      write('retire', record, () => {
        records.set(record.id, structuredClone({ ...record, state: 'terminated' as const }));
        return { detail: 'retired' };
      }),
    list: (cluster, _budget, after) => call({ operation: 'list', cluster, after }, () => page(cluster, after)),
    plan: (operation, record) => ({ cmdbKind: 'memory', operation, id: record.id }),
    warmUp: () => Promise.resolve(),
  };
}
