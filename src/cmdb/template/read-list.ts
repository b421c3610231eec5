import { recordId, type CmdbRecord } from '../../pod/record.ts';
import { AGENT_NAME } from '../../version.ts';
import type { RecordPage } from '../backend.ts';
import { valueAt } from './dotted-path.ts';
import type { ListFields } from './list-step.ts';

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isName = (value: unknown): value is string => typeof value === 'string' && value !== '';
const text = (value: unknown): string | null => (typeof value === 'string' ? value : typeof value === 'number' ? String(value) : null);
const strings = (value: unknown): Record<string, string> => (isObject(value) ? Object.fromEntries(Object.entries(value).filter((entry): entry is [string, string] => typeof entry[1] === 'string')) : {});
const quoted = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : typeof value);

/**
 * Reads the answer of the template's `list` step into a page. The items are read through `list.record`; each is
 * checked as one of cmdb-hook's records of the asked cluster (id = <pod.uid>_<container>, the cluster, and
 * `agent.name` when the template maps it) before it is trusted: the controller retires what it lists, and a CMDB
 * that ignores the filter must not widen that. A page that does not move past `after` (the CMDB ignored it, or its
 * `next` points back) would page forever: `wrong` makes the refusal of it.
 */
export function readTemplatePage(step: ListFields, document: unknown, query: { cluster: string; after: string | undefined }, wrong: (why: string) => Error): RecordPage {
  const found = valueAt(document, step.items);
  const items: unknown[] | undefined = Array.isArray(found) ? found : isObject(found) ? Object.values(found) : undefined;
  if (!items) throw wrong(`list: ${step.items} is ${found === undefined ? 'missing' : quoted(found)}, not the list of items`);
  if (items.length > step.limit) throw wrong(`list: ${items.length} items, more than the ${step.limit} asked for`);
  const read = (item: unknown, name: string): unknown => {
    const path = step.record.get(name);
    return path === undefined ? undefined : valueAt(item, path);
  };
  const page: RecordPage = { items: [], next: null, skipped: [] };
  const ids: string[] = [];
  items.forEach((item, index) => {
    const id = text(read(item, 'id'));
    if (id) ids.push(id);
    const record = recordOf(item, read);
    const why = typeof record === 'string' ? record : record.cluster !== query.cluster ? `cluster is ${quoted(record.cluster)}, not ${quoted(query.cluster)}` : undefined;
    if (why) page.skipped.push(`item ${index}${id ? ` (id ${quoted(id)})` : ''}: ${why}`);
    else page.items.push(record as CmdbRecord);
  });
  const after = query.after;
  const back = after === undefined ? undefined : ids.find((id) => id <= after);
  if (after !== undefined && back !== undefined) throw wrong(`list: item id ${quoted(back)} does not come after ${quoted(after)}: the CMDB ignored \${after}, so paging would not end`);
  page.items.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  let next: unknown;
  if (step.next !== undefined) next = valueAt(document, step.next);
  else next = items.length >= step.limit ? ids.sort().at(-1) : null;
  if (next === undefined || next === null || next === '') return page;
  if (!isName(next)) throw wrong(`list: ${step.next ?? 'the last item\'s id'} must be an id or null, not ${quoted(next)}`);
  if (after !== undefined && next <= after) throw wrong(`list: next ${quoted(next)} does not come after ${quoted(after)}, so paging would not end`);
  page.next = next;
  return page;
}

/** The record an item holds, or why it is not one of cmdb-hook's records. */
function recordOf(item: unknown, read: (item: unknown, name: string) => unknown): CmdbRecord | string {
  if (!isObject(item)) return 'not an object';
  const [id, cluster, uid, container] = [read(item, 'id'), read(item, 'cluster'), read(item, 'pod.uid'), read(item, 'container')].map(text);
  if (!id) return 'id is not a non-empty string';
  if (!cluster) return 'cluster is not a non-empty string';
  if (!uid || !container) return 'pod.uid or container is not a non-empty string';
  if (id !== recordId(uid, container)) return `id is not "<pod.uid>_<container>" (${quoted(recordId(uid, container))})`;
  const agent = read(item, 'agent.name');
  if (agent !== undefined && agent !== AGENT_NAME) return `agent.name is ${quoted(agent)}, not "${AGENT_NAME}"`;
  const ips = read(item, 'pod.ips');
  const ip = text(read(item, 'pod.ip'));
  return {
    id,
    cluster,
    namespace: text(read(item, 'namespace')) ?? '',
    pod: { name: text(read(item, 'pod.name')) ?? '', uid, ip, ips: Array.isArray(ips) ? ips.filter((one): one is string => typeof one === 'string') : ip ? [ip] : [] },
    container,
    node: { name: text(read(item, 'node.name')), ip: text(read(item, 'node.ip')) },
    app: text(read(item, 'app')),
    labels: strings(read(item, 'labels')),
    annotations: strings(read(item, 'annotations')),
    fields: strings(read(item, 'fields')),
    state: read(item, 'state') === 'terminated' ? 'terminated' : 'ready',
    observedAt: text(read(item, 'observedAt')) ?? '',
    agent: { name: AGENT_NAME, version: text(read(item, 'agent.version')) ?? '' },
  };
}
