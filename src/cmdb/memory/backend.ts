import { CmdbUnavailableError } from '../../errors.ts';
import type { CmdbRecord } from '../../pod/record.ts';
import type { CmdbBackend, Operation, WriteResult } from '../backend.ts';

/**
 * A CMDB in memory, behind the same interface: for in-process tests (and the controller's), where a real server adds
 * nothing. It keeps records by id, refuses nothing, and can be told to fail transiently. It is no `--cmdb-kind`: a
 * hook's process ends with the run, and the memory with it.
 */
export interface MemoryBackend extends CmdbBackend {
  readonly records: ReadonlyMap<string, CmdbRecord>;
  /** Every call, in order: what was asked, of which id. */
  readonly calls: readonly { operation: Operation; id: string }[];
  /** The next `times` calls fail as a CMDB outage would (transient: the retry layer tries again). */
  failNext(times: number): void;
}

export function createMemoryBackend(): MemoryBackend {
  const records = new Map<string, CmdbRecord>();
  const calls: { operation: Operation; id: string }[] = [];
  let failures = 0;
  const call = (operation: Operation, record: CmdbRecord, write: () => WriteResult): Promise<WriteResult> => {
    calls.push({ operation, id: record.id });
    if (failures > 0) {
      failures--;
      return Promise.reject(new CmdbUnavailableError(`memory CMDB: ${operation} ${record.id} failed as asked`));
    }
    return Promise.resolve(write());
  };
  return {
    records,
    calls,
    failNext: (times) => void (failures = times),
    upsert: (record) =>
      call('upsert', record, () => {
        const existed = records.has(record.id);
        records.set(record.id, structuredClone(record));
        return { detail: existed ? 'replaced' : 'created' };
      }),
    remove: (record) => call('remove', record, () => (records.delete(record.id) ? { detail: 'deleted' } : { detail: 'not found', alreadyGone: true })),
    retire: (record) =>
      call('retire', record, () => {
        records.set(record.id, structuredClone({ ...record, state: 'terminated' as const }));
        return { detail: 'retired' };
      }),
    plan: (operation, record) => ({ cmdbKind: 'memory', operation, id: record.id }),
    warmUp: () => Promise.resolve(),
  };
}
