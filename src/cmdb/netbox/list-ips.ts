import { CmdbRejectedError } from '../../errors.ts';
import { recordId, type CmdbRecord } from '../../pod/record.ts';
import type { TimeBudget } from '../../retry/time-budget.ts';
import { AGENT_NAME } from '../../version.ts';
import type { RecordPage } from '../backend.ts';
import type { createIpApi } from './ip-api.ts';
import { canonicalHost, inTable, ownerOf, tableName, UID_FIELD, type NetboxIp } from './ip-address.ts';

/** The most records one page of the list holds. */
const RECORD_PAGE_SIZE = 500;

/**
 * Pod UIDs are lowercase hex (a UUID from the API server, or a static pod's hash), so their first character splits
 * a cluster's IP addresses into 16 slices of about equal size, read in this order. NetBox pages with limit/offset; it
 * has no "greater than" for a text custom field, and its `ordering` takes no custom field (netbox-community/netbox
 * #15050), so a cursor on the record id cannot be sent. Instead each `list` reads whole slices
 * (cf_k8s_pod_uid__isw=<character>), sorts their records by id client-side, and gives those after `after`: the slice
 * of `after` first, then the next ones until the page is full. A page cut inside a slice reads that slice again on
 * the next call, for the ids after its last one. Reading a slice whole keeps one attempt's work to about a sixteenth
 * of the cluster, and the order is the record id's, whatever NetBox's own.
 */
const SLICES = '0123456789abcdef';

type IpApi = ReturnType<typeof createIpApi>;

/** What the IP addresses of this cluster look like: the description the backend writes, in its table. */
interface IpListing {
  vrf: string | undefined;
}

export async function listRecords(api: IpApi, listing: IpListing, cluster: string, attempt: TimeBudget, after?: string): Promise<RecordPage> {
  const page: RecordPage = { items: [], next: null, skipped: [] };
  // The slice whose ids can come after `after`: every id of slice c sorts below `${c}~`.
  let slice = after === undefined ? 0 : [...SLICES].findIndex((c) => `${c}~` > after);
  if (slice < 0) return page;
  for (; slice < SLICES.length; slice++) {
    const char = SLICES[slice] ?? '';
    const records = new Map<string, CmdbRecord>();
    for (const ip of await readSlice(api, listing, cluster, char, attempt)) {
      const read = recordOf(ip, cluster, listing.vrf);
      if (typeof read === 'string') {
        page.skipped.push(`IP address ${ip.address} (id ${ip.id}): ${read}`);
        continue;
      }
      // NetBox ignores a filter it does not know (cf_ lookups of older releases): what belongs to another slice is
      // that slice's, and what is not after `after` was given before.
      if (read.pod.uid[0] !== char || (after !== undefined && read.id <= after)) continue;
      const same = records.get(read.id);
      if (same) same.pod.ips.push(...read.pod.ips.filter((one) => !same.pod.ips.includes(one)));
      else records.set(read.id, read);
    }
    page.items.push(...[...records.values()].sort((a, b) => (a.id < b.id ? -1 : 1)));
    if (page.items.length >= RECORD_PAGE_SIZE) {
      const more = page.items.length > RECORD_PAGE_SIZE || slice < SLICES.length - 1;
      page.items = page.items.slice(0, RECORD_PAGE_SIZE);
      page.next = more ? (page.items.at(-1)?.id ?? null) : null;
      return page;
    }
  }
  return page;
}

/**
 * Every IP address of one slice: the filters NetBox offers for what the backend writes (the description starts
 * `k8s <cluster>/`, k8s_pod_uid starts with the slice's character, the global table is `vrf_id=null`; the `__isw`
 * lookups exist for IPAddressFilterSet's Meta.fields and, through get_additional_lookups, for custom fields: netbox's
 * filtersets.py), followed through NetBox's limit/offset pages, ordered by NetBox id (`ordering`, NetBox 3.2+) so
 * that addresses created meanwhile do not shift the offsets. A page that brings nothing new while NetBox says more
 * follow would page forever: a refusal.
 */
async function readSlice(api: IpApi, listing: IpListing, cluster: string, char: string, attempt: TimeBudget): Promise<NetboxIp[]> {
  const filters = { description__isw: `k8s ${cluster}/`, [`cf_${UID_FIELD}__isw`]: char, ...(listing.vrf ? {} : { vrf_id: 'null' }) };
  const found = new Map<number, NetboxIp>();
  for (let offset = 0; ; ) {
    const answer = await api.page(filters, offset, attempt);
    const fresh = answer.results.filter((ip) => !found.has(ip.id));
    for (const ip of fresh) found.set(ip.id, ip);
    if (!answer.more || answer.results.length === 0) return [...found.values()];
    if (fresh.length === 0) {
      const request = api.requests.page(filters, offset);
      throw new CmdbRejectedError(`${request.method} ${request.url} answered only IP addresses of the pages before (offset ${offset} of ${answer.count}), so paging would not end; is --cmdb-url NetBox itself?`);
    }
    offset += answer.results.length;
  }
}

const DESCRIPTION = /^k8s (.+)\/([^/ ]+)\/([^/ ]+) container ([^ ,…]+)(?:, app (.+))?$/;

/**
 * The record an IP address stands for, or why it is not one of this cluster's: owned through k8s_pod_uid, in the
 * backend's table, with the description the backend writes (`k8s <cluster>/<namespace>/<pod> container <container>`,
 * ip-address.ts). Node, labels and annotations are not kept in NetBox and are listed empty.
 */
function recordOf(ip: NetboxIp, cluster: string, vrf: string | undefined): CmdbRecord | string {
  const uid = ownerOf(ip);
  if (!uid) return `no ${UID_FIELD}: made by hand or by another tool`;
  if (!/^[0-9a-f][0-9a-f-]*$/.test(uid)) return `${UID_FIELD} ${JSON.stringify(uid)} is not a Kubernetes UID (lowercase hex)`;
  if (!inTable(ip, vrf)) return `not in ${tableName(vrf)}`;
  const { description, status, last_updated: updated } = ip as NetboxIp & { description?: unknown; status?: { value?: unknown }; last_updated?: unknown };
  const parts = typeof description === 'string' ? DESCRIPTION.exec(description) : null;
  if (!parts) return `its description is not "k8s <cluster>/<namespace>/<pod> container <container>", as cmdb-hook writes it`;
  const [, owner = '', namespace = '', name = '', container = '', app] = parts;
  if (owner !== cluster) return `its description names cluster ${JSON.stringify(owner)}, not ${JSON.stringify(cluster)}`;
  const host = canonicalHost(ip.address);
  const fields = Object.fromEntries(Object.entries(ip.custom_fields ?? {}).filter((entry): entry is [string, string] => entry[0] !== UID_FIELD && typeof entry[1] === 'string'));
  return {
    id: recordId(uid, container),
    cluster,
    namespace,
    pod: { name, uid, ip: host ?? null, ips: host ? [host] : [] },
    container,
    node: { name: null, ip: null },
    app: app ?? null,
    labels: {},
    annotations: {},
    fields,
    state: status?.value === 'deprecated' ? 'terminated' : 'ready',
    observedAt: typeof updated === 'string' ? updated : '',
    agent: { name: AGENT_NAME, version: '' },
  };
}

/**
 * What NetBox keeps of a record, canonical: no node, labels or annotations; the pod's addresses as a sorted set
 * (listing merges a dual-stack pod's addresses in NetBox's order, which need not be the pod's).
 */
export function comparableIp(record: CmdbRecord): CmdbRecord {
  const ips = [...new Set(record.pod.ips.map((ip) => canonicalHost(ip) ?? ip))].sort();
  return { ...record, pod: { ...record.pod, ip: null, ips }, node: { name: null, ip: null }, labels: {}, annotations: {} };
}
