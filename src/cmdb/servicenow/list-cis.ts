import { CmdbRejectedError } from '../../errors.ts';
import { recordId, type CmdbRecord } from '../../pod/record.ts';
import type { TimeBudget } from '../../retry/time-budget.ts';
import { AGENT_NAME } from '../../version.ts';
import type { RecordPage } from '../backend.ts';
import { parseJson } from '../http-client/answers.ts';
import type { HttpClient } from '../http-client/client.ts';
import { answerError } from '../http-client/failures.ts';
import type { HttpRequest } from '../http-client/http-types.ts';
import { ANSWER_LIMITS } from '../http-client/read-answer.ts';
import { failedAnswer, objectOf, serviceNowError } from './answers.ts';

/** CIs per page: a page of 500 CIs of these few fields is far below the page's answer limit. */
const CI_PAGE_SIZE = 500;

/**
 * The container of a listed CI. The CI is the pod's, not a container's (one per pod UID, see backend.ts), and holds
 * no container name; a Kubernetes container name is a DNS label, so `*` never names a real one: a listed CI is the
 * record `<k8s_uid>_*`, meaning "the pod's CI, whichever container wrote it".
 */
const POD_CONTAINER = '*';

const FIELDS = ['sys_id', 'k8s_uid', 'name', 'namespace', 'cluster', 'ip_address', 'install_status', 'discovery_source', 'sys_updated_on'];

/** install_status 7 is Retired (ServiceNow's cmdb_ci dictionary). */
const RETIRED = '7';

interface CiListing {
  base: string;
  podClass: string;
  dataSource: string;
}

/**
 * One page of the cluster's CIs through the Table API (c_TableAPI.md): sysparm_query on the markers the backend
 * writes (`cluster`; `discovery_source`, which Identification and Reconciliation sets to the data source; a
 * non-empty `k8s_uid`), `k8s_uid>` the one of `after` for the cursor (one CI per pod UID), `ORDERBYk8s_uid`, and
 * sysparm_limit. ServiceNow drops a part of sysparm_query it cannot apply (a field the class lacks) and answers as if
 * it were not there, so every CI is checked again here: the markers, the order of the answer, and that it moved past
 * `after`; a CI that is not ours is skipped with the reason, and an answer out of order or that repeats is refused.
 */
function listRequest(listing: CiListing, cluster: string, after: string | undefined): HttpRequest {
  for (const [what, value] of [['--cluster', cluster], ['--servicenow-data-source', listing.dataSource]]) {
    // `^` separates the parts of an encoded query: such a value would change the query itself.
    if (value?.includes('^')) throw new CmdbRejectedError(`${what} ${JSON.stringify(value)} holds "^", which cannot be put in a ServiceNow sysparm_query; rename it to list its CIs`);
  }
  const uidAfter = after === undefined ? undefined : after.split('_')[0];
  const query = [`cluster=${cluster}`, `discovery_source=${listing.dataSource}`, 'k8s_uidISNOTEMPTY', ...(uidAfter === undefined ? [] : [`k8s_uid>${uidAfter}`]), 'ORDERBYk8s_uid'].join('^');
  const params = new URLSearchParams({ sysparm_query: query, sysparm_fields: FIELDS.join(','), sysparm_limit: String(CI_PAGE_SIZE), sysparm_exclude_reference_link: 'true' });
  const tooLarge = `more than a page of ${CI_PAGE_SIZE} CIs should take: check --cmdb-url`;
  return { method: 'GET', url: `${listing.base}/api/now/table/${listing.podClass}?${params.toString()}`, answerLimit: { bytes: ANSWER_LIMITS.page, tooLarge } };
}

export async function listCis(client: HttpClient, listing: CiListing, cluster: string, attempt: TimeBudget, after?: string): Promise<RecordPage> {
  const request = listRequest(listing, cluster, after);
  const response = await client.send(request, attempt);
  // Version 1 of the Table API answers a query that matches nothing with 404 and an error body (c_TableAPI.md).
  if (response.status === 404 && serviceNowError(response.body)) return { items: [], next: null, skipped: [] };
  if (response.status < 200 || response.status >= 300) throw failedAnswer(request, response, client.mask);
  const wrong = (why: string) => answerError(request, { ...response, body: '' }, client.mask, why);
  const rows = objectOf(parseJson(response.body))?.result;
  if (!Array.isArray(rows)) throw wrong('not a Table API answer: no "result" list');
  if (rows.length > CI_PAGE_SIZE) throw wrong(`${rows.length} CIs, more than the ${CI_PAGE_SIZE} asked for`);
  const page: RecordPage = { items: [], next: null, skipped: [] };
  let previous = '';
  rows.forEach((row: unknown, index) => {
    const ci = objectOf(row);
    const uid = typeof ci?.k8s_uid === 'string' ? ci.k8s_uid : '';
    const id = uid ? recordId(uid, POD_CONTAINER) : '';
    if (uid && uid < previous) throw wrong(`CI ${index} is not in k8s_uid order: ServiceNow dropped ORDERBYk8s_uid, so pages cannot follow each other`);
    if (uid && after !== undefined && id <= after) throw wrong(`CI ${index} (k8s_uid ${JSON.stringify(uid)}) does not come after ${JSON.stringify(after)}: ServiceNow dropped the k8s_uid condition, so paging would not end`);
    previous = uid || previous;
    const why = !ci ? 'not an object' : whyNotOurs(ci, uid, cluster, listing.dataSource);
    if (why) page.skipped.push(`CI ${index}${typeof ci?.sys_id === 'string' ? ` (sys_id ${ci.sys_id})` : ''}: ${why}`);
    else page.items.push(recordOf(ci as Record<string, unknown>, uid, cluster));
  });
  // A full page may have more after it; the cursor is the last pod UID seen, ours or not.
  if (rows.length >= CI_PAGE_SIZE && previous) page.next = recordId(previous, POD_CONTAINER);
  return page;
}

function whyNotOurs(ci: Record<string, unknown>, uid: string, cluster: string, dataSource: string): string | undefined {
  if (!uid) return 'no k8s_uid';
  if (ci.cluster !== cluster) return `cluster is ${JSON.stringify(ci.cluster ?? null)}, not ${JSON.stringify(cluster)}`;
  if (ci.discovery_source !== dataSource) return `discovery_source is ${JSON.stringify(ci.discovery_source ?? null)}, not --servicenow-data-source ${JSON.stringify(dataSource)}`;
  return undefined;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : '');

/** The record a CI stands for: what the CI keeps; labels, annotations, node and app are not kept there. */
function recordOf(ci: Record<string, unknown>, uid: string, cluster: string): CmdbRecord {
  const ip = text(ci.ip_address) || null;
  // sys_updated_on is UTC "YYYY-MM-DD hh:mm:ss" without sysparm_display_value (c_TableAPI.md).
  const updated = /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/.test(text(ci.sys_updated_on)) ? `${text(ci.sys_updated_on).replace(' ', 'T')}Z` : '';
  return {
    id: recordId(uid, POD_CONTAINER),
    cluster,
    namespace: text(ci.namespace),
    pod: { name: text(ci.name), uid, ip, ips: ip ? [ip] : [] },
    container: POD_CONTAINER,
    node: { name: null, ip: null },
    app: null,
    labels: {},
    annotations: {},
    fields: {},
    state: ci.install_status === RETIRED ? 'terminated' : 'ready',
    observedAt: updated,
    agent: { name: AGENT_NAME, version: '' },
  };
}

/** What a CI keeps of a record: one per pod (id `<pod uid>_*`), its name, namespace and primary address. */
export function comparableCi(record: CmdbRecord): CmdbRecord {
  const ip = record.pod.ip;
  return {
    ...record,
    id: recordId(record.pod.uid, POD_CONTAINER),
    container: POD_CONTAINER,
    pod: { ...record.pod, ips: ip ? [ip] : [] },
    node: { name: null, ip: null },
    app: null,
    labels: {},
    annotations: {},
    fields: {},
  };
}
