import { CmdbRejectedError, CmdbUnavailableError } from '../../errors.ts';
import type { TimeBudget } from '../../retry/time-budget.ts';
import { settingName } from '../../settings/option.ts';
import { parseJson, statusLine } from '../http-client/answers.ts';
import type { HttpClient } from '../http-client/client.ts';
import { answerError } from '../http-client/failures.ts';
import type { HttpRequest, HttpResponse } from '../http-client/http-types.ts';
import { ANSWER_LIMITS } from '../http-client/read-answer.ts';
import { customFieldAction, whatToCreate } from './config-problems.ts';
import { canonicalHost, inTable, ownerOf, UID_FIELD, type NetboxIp } from './ip-address.ts';
import type { NetboxSettings } from './settings.ts';

/** NetBox's default MAX_PAGE_SIZE (docs/integrations/rest-api.md, Pagination): one page holds every match here. */
const PAGE_LIMIT = '1000';

/** NetBox's answer to a create that would duplicate an address (IPAddress.clean in netbox/ipam/models/ip.py). */
const DUPLICATE = /Duplicate IP address found in/;

/**
 * The IP address endpoint of NetBox's REST API (docs/integrations/rest-api.md): list `GET /api/ipam/ip-addresses/?...`
 * (paged {count, next, previous, results}), create `POST` there (201), update `PATCH .../{id}/` (200), delete
 * `DELETE .../{id}/` (204). The trailing slash is required: without it Django answers a redirect that a write must
 * not follow. Each call sends one request under the attempt's signal and timeout; none retries (src/retry does).
 */
export function createIpApi(client: HttpClient, base: string, settings: NetboxSettings) {
  const root = `${base}/api/ipam/ip-addresses/`;
  const vrf = settings.vrf;

  const requests = {
    /** Custom field filters are cf_<name> (NetBoxModelFilterSet in netbox/netbox/filtersets.py). */
    byUid: (uid: string): HttpRequest => ({ method: 'GET', url: `${root}?${new URLSearchParams({ [`cf_${UID_FIELD}`]: uid, limit: PAGE_LIMIT }).toString()}` }),
    /**
     * `address` without a mask matches the host with any mask (NetIn in netbox/ipam/lookups.py). The global table is
     * `vrf_id=null` (FILTERS_NULL_CHOICE_VALUE in netbox/netbox/settings.py). There is no VRF-name filter (`vrf` is
     * the route distinguisher, netbox/ipam/filtersets.py), so with --netbox-vrf the VRF is checked on the answer.
     */
    atHost: (host: string): HttpRequest => ({ method: 'GET', url: `${root}?${new URLSearchParams({ address: host, ...(vrf ? {} : { vrf_id: 'null' }), limit: PAGE_LIMIT }).toString()}` }),
    /** One page of a listing: the filters as given, NetBox's limit/offset paging, ordered by NetBox id. */
    page: (filters: Record<string, string>, offset: number): HttpRequest => ({
      method: 'GET',
      url: `${root}?${new URLSearchParams({ ...filters, ordering: 'id', limit: PAGE_LIMIT, offset: String(offset) }).toString()}`,
      answerLimit: { bytes: ANSWER_LIMITS.page, tooLarge: `more than a page of ${PAGE_LIMIT} IP addresses should take: check --cmdb-url` },
    }),
    create: (body: unknown): HttpRequest => ({ method: 'POST', url: root, body }),
    update: (id: number | string, body: unknown): HttpRequest => ({ method: 'PATCH', url: `${root}${id}/`, body }),
    remove: (id: number | string): HttpRequest => ({ method: 'DELETE', url: `${root}${id}/` }),
  };

  /** The error for an answer that is not the one wanted, with what to do first when it is a config problem. */
  const failure = (request: HttpRequest, response: HttpResponse) => {
    const error = answerError(request, response, client.mask);
    const actions = response.status === 400 ? whatToCreate(response.body, settings) : [];
    if (actions.length > 0) return new CmdbRejectedError(`${actions.join('; ')}: ${error.message}`, { status: 400 });
    if (response.status === 401 || response.status === 403) {
      const what = `check the NetBox token in ${settingName('cmdb-token-file')} (v2 tokens nbt_... are sent as Bearer, v1 tokens as Token) and that its user may view, add, change and delete IPAM IP addresses`;
      return new CmdbRejectedError(`${what}: ${error.message}`, { status: response.status });
    }
    return error;
  };

  const listAnswer = async (request: HttpRequest, attempt: TimeBudget): Promise<{ results: NetboxIp[]; count: number; more: boolean }> => {
    const response = await client.send(request, attempt);
    if (response.status !== 200) throw failure(request, response);
    const answer = parseJson(response.body) as { results?: unknown; count?: unknown; next?: unknown } | undefined;
    const results = answer?.results;
    if (!Array.isArray(results) || !results.every(isIp)) {
      throw answerError(request, response, client.mask, 'not a NetBox list of IP addresses; is --cmdb-url the NetBox base URL?');
    }
    return { results, count: typeof answer?.count === 'number' ? answer.count : results.length, more: typeof answer?.next === 'string' && answer.next !== '' };
  };
  const list = async (request: HttpRequest, attempt: TimeBudget): Promise<NetboxIp[]> => (await listAnswer(request, attempt)).results;

  const one = (request: HttpRequest, response: HttpResponse): NetboxIp => {
    const ip = parseJson(response.body);
    if (!isIp(ip)) throw answerError(request, response, client.mask, 'not a NetBox IP address');
    return ip;
  };

  return {
    requests,

    /**
     * This pod's IP addresses. Checked again here: NetBox ignores a filter it does not know (a custom field that is
     * missing, or whose filter logic is Disabled) and would list everything.
     */
    async byUid(uid: string, attempt: TimeBudget): Promise<NetboxIp[]> {
      const request = requests.byUid(uid);
      const found = await list(request, attempt);
      const strangers = found.filter((ip) => ownerOf(ip) !== uid);
      if (strangers.length === 0) return found;
      const fieldExists = strangers.some((ip) => ip.custom_fields !== undefined && UID_FIELD in ip.custom_fields);
      const action = fieldExists ? `set the filter logic of custom field ${UID_FIELD} to Exact in NetBox (Customization > Custom Fields)` : customFieldAction(UID_FIELD);
      const ids = strangers.slice(0, 5).map((ip) => ip.id).join(', ');
      throw new CmdbRejectedError(`${action}: NetBox ignored the filter of ${request.method} ${client.mask(request.url)} and listed IP addresses of other pods or of none (id ${ids}); nothing was changed`);
    },

    /** The IP addresses at this host in the agent's table (--netbox-vrf, else the global table). */
    async atHost(host: string, attempt: TimeBudget): Promise<NetboxIp[]> {
      const found = await list(requests.atHost(host), attempt);
      return found.filter((ip) => canonicalHost(ip.address) === host && inTable(ip, vrf));
    },

    /** One page of a listing (page: requests.page), with whether NetBox says more follow. */
    page: (filters: Record<string, string>, offset: number, attempt: TimeBudget) => listAnswer(requests.page(filters, offset), attempt),

    /** 201 with the new address, or 'duplicate' when NetBox already holds this host in this table. */
    async create(body: unknown, attempt: TimeBudget): Promise<{ ip: NetboxIp; detail: string } | 'duplicate'> {
      const request = requests.create(body);
      const response = await client.send(request, attempt);
      if (response.status === 201) {
        const ip = one(request, response);
        return { ip, detail: `${statusLine(response)} ${ip.address} (id ${ip.id})` };
      }
      if (response.status === 400 && DUPLICATE.test(response.body)) return 'duplicate';
      throw failure(request, response);
    },

    async update(ip: NetboxIp, body: unknown, attempt: TimeBudget): Promise<string> {
      const request = requests.update(ip.id, body);
      const response = await client.send(request, attempt);
      if (response.status === 200) return `${statusLine(response)} ${ip.address} (id ${ip.id})`;
      if (response.status === 404) {
        // Deleted between look-up and write (a reaper, a person): the next attempt looks again and creates it.
        throw new CmdbUnavailableError(`${request.method} ${client.mask(request.url)} answered 404: IP address ${ip.address} (id ${ip.id}) went away after the look-up`, { status: 404 });
      }
      throw failure(request, response);
    },

    /** 204; 404 means someone else deleted it first, which is just as good. */
    async remove(ip: NetboxIp, attempt: TimeBudget): Promise<{ detail: string; gone: boolean }> {
      const request = requests.remove(ip.id);
      const response = await client.send(request, attempt);
      if (response.status === 204) return { detail: `${statusLine(response)} ${ip.address} (id ${ip.id})`, gone: false };
      if (response.status === 404) return { detail: `${statusLine(response)} ${ip.address} (id ${ip.id})`, gone: true };
      throw failure(request, response);
    },
  };
}


function isIp(value: unknown): value is NetboxIp {
  const ip = value as Partial<NetboxIp> | null | undefined;
  return typeof ip?.id === 'number' && typeof ip.address === 'string' && (ip.custom_fields === undefined || (typeof ip.custom_fields === 'object' && ip.custom_fields !== null));
}
