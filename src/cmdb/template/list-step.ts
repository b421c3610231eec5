import { dottedPathProblem } from './dotted-path.ts';
import { Problem } from './template-problem.ts';

/**
 * What the template's optional `list` step adds to a request: where the records are in the answer and how to read
 * one. Checked at start-up like the rest of the file.
 *
 *   "list": request + { "items", "next"?, "limit"?, "record" }
 *     items:  dotted path to the array of items in the answer (an object's values count as its items: Consul)
 *     next:   dotted path to the id of the next page's `after`; null, "" or missing means the last page. Without it,
 *             a page of `limit` items continues after its last id, and a shorter one is the last
 *     limit:  the page size asked for, 1 to 500 (default 500), as ${limit}
 *     record: record name -> dotted path in an item; id, cluster, pod.uid and container are required
 */
export interface ListFields {
  items: string;
  next: string | undefined;
  limit: number;
  /** Record name (as RECORD_NAMES) -> dotted path into one item. */
  record: ReadonlyMap<string, string>;
}

export const LIST_KEYS = ['items', 'next', 'limit', 'record'] as const;

/** The names of the record a list item can be read into; the first four identify it and are required. */
const REQUIRED_NAMES = ['id', 'cluster', 'pod.uid', 'container'] as const;
const RECORD_NAMES: readonly string[] = [
  ...REQUIRED_NAMES,
  'namespace',
  'pod.name',
  'pod.ip',
  'pod.ips',
  'node.name',
  'node.ip',
  'app',
  'labels',
  'annotations',
  'fields',
  'state',
  'observedAt',
  'agent.name',
  'agent.version',
];

const LIST_PAGE_MAX = 500;

export function listFieldsOf(node: Record<string, unknown>): ListFields {
  const path = (key: string, required: boolean): string | undefined => {
    const value = node[key];
    if (value === undefined && !required) return undefined;
    if (typeof value !== 'string') throw new Problem(`$.list.${key}`, 'must be a dotted path into the answer, e.g. data.info');
    const problem = dottedPathProblem(value);
    if (problem) throw new Problem(`$.list.${key}`, problem);
    return value;
  };
  const items = path('items', true) as string;
  const next = path('next', false);
  const limit = node.limit ?? LIST_PAGE_MAX;
  if (!Number.isInteger(limit) || (limit as number) < 1 || (limit as number) > LIST_PAGE_MAX) throw new Problem('$.list.limit', `must be an integer from 1 to ${LIST_PAGE_MAX}`);
  const mapping = node.record;
  if (mapping === null || typeof mapping !== 'object' || Array.isArray(mapping)) {
    throw new Problem('$.list.record', 'is required: an object from record names (id, cluster, pod.uid, container, ...) to dotted paths in one item');
  }
  const record = new Map<string, string>();
  for (const [name, value] of Object.entries(mapping)) {
    if (!RECORD_NAMES.includes(name)) throw new Problem(`$.list.record.${name}`, `is not a record name; use ${RECORD_NAMES.join(', ')}`);
    const problem = typeof value === 'string' ? dottedPathProblem(value) : 'must be a dotted path into one item, e.g. k8s_record_id';
    if (problem) throw new Problem(`$.list.record.${name}`, problem);
    record.set(name, value as string);
  }
  const missing = REQUIRED_NAMES.find((name) => !record.has(name));
  if (missing) throw new Problem(`$.list.record.${missing}`, 'is required: id, cluster, pod.uid and container tell whose record an item is');
  return { items, next, limit: limit as number, record };
}
