import { recordId, type CmdbRecord } from '../../pod/record.ts';
import { AGENT_NAME } from '../../version.ts';
import type { RecordPage } from '../backend.ts';
import { parseJson } from '../http-client/answers.ts';

/** The most records protocol v1 lets one page hold; the backend asks for this many. */
export const LIST_PAGE_SIZE = 500;

/** What the page was asked for: whose records, after which id. */
export interface PageQuery {
  cluster: string;
  after: string | undefined;
}

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);
const isName = (value: unknown): value is string => typeof value === 'string' && value !== '';
const quoted = (value: unknown): string => (typeof value === 'string' ? JSON.stringify(value.length > 80 ? `${value.slice(0, 80)}…` : value) : typeof value);

/**
 * Reads a protocol v1 list answer, `{"items": [records], "next": "<id>" | null}`. A wrong shape throws what `wrong`
 * makes of the reason (the backend names the URL). A `next` that is not after `after` would page forever, so it is a
 * wrong shape too. Each item is checked as one of cmdb-hook's records of the asked cluster before it is trusted: the
 * controller retires what it lists, so a CMDB that ignores `cluster`, or holds records of other writers, must not
 * make it touch them. Items that fail are left out, each with the reason.
 */
export function readListPage(body: string, query: PageQuery, wrong: (why: string) => Error): RecordPage {
  const answer = parseJson(body);
  if (!isObject(answer) || !Array.isArray(answer.items) || !('next' in answer)) {
    throw wrong('not a list page: protocol v1 answers {"items": [records], "next": "<id>" or null}');
  }
  const { items, next } = answer as { items: unknown[]; next: unknown };
  if (next !== null && !isName(next)) throw wrong(`"next" must be a record id or null, not ${quoted(next)}`);
  if (next !== null && query.after !== undefined && next <= query.after) {
    throw wrong(`"next" ${quoted(next)} does not come after ${quoted(query.after)}, so paging would not end`);
  }
  if (items.length > LIST_PAGE_SIZE) throw wrong(`${items.length} items, more than the ${LIST_PAGE_SIZE} asked for`);
  const page: RecordPage = { items: [], next, skipped: [] };
  items.forEach((item, index) => {
    const why = whyNotOurs(item, query.cluster);
    if (why) page.skipped.push(`item ${index}${isObject(item) && typeof item.id === 'string' ? ` (id ${quoted(item.id)})` : ''}: ${why}`);
    else page.items.push(item as CmdbRecord);
  });
  return page;
}

/**
 * Why an item is not a record cmdb-hook wrote for `cluster`, or undefined when it is. Only identity and ownership
 * are checked (id, cluster, pod.uid, container, agent); the other names are as the CMDB keeps them.
 */
function whyNotOurs(item: unknown, cluster: string): string | undefined {
  if (!isObject(item)) return 'not an object';
  const { id, pod, container, agent } = item;
  if (!isName(id)) return '"id" is not a non-empty string';
  if (item.cluster !== cluster) return `"cluster" is ${quoted(item.cluster)}, not ${quoted(cluster)}`;
  if (!isObject(pod) || !isName(pod.uid)) return '"pod.uid" is not a non-empty string';
  if (!isName(container)) return '"container" is not a non-empty string';
  if (id !== recordId(pod.uid, container)) return `"id" is not "<pod.uid>_<container>" (${quoted(recordId(pod.uid, container))})`;
  if (!isObject(agent) || agent.name !== AGENT_NAME || typeof agent.version !== 'string') return `"agent" is not {"name": "${AGENT_NAME}", "version": "<version>"}`;
  return undefined;
}
