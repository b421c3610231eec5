import type { StoredRecord } from './sandbox-cmdb.ts';

/** The largest page protocol v1 allows. */
const LIST_LIMIT = 500;

/**
 * Protocol v1's list: the records of one cluster ordered by id (compared as strings), those after `after`
 * (exclusive), at most `limit` (1 to 500) of them; `next` is the last id given while more follow, else null.
 */
export function listPage(records: ReadonlyMap<string, StoredRecord>, query: URLSearchParams): [number, unknown] {
  const cluster = query.get('cluster');
  const limit = Number(query.get('limit'));
  const after = query.get('after');
  if (!cluster) return [400, { error: 'cluster is required' }];
  if (!Number.isInteger(limit) || limit < 1 || limit > LIST_LIMIT) return [400, { error: `limit must be an integer from 1 to ${LIST_LIMIT}` }];
  const matching = [...records.values()].filter((record) => record.cluster === cluster && (after === null || record.id > after)).sort((a, b) => (a.id < b.id ? -1 : 1));
  const items = matching.slice(0, limit);
  return [200, { items, next: matching.length > limit ? (items.at(-1)?.id ?? null) : null }];
}
