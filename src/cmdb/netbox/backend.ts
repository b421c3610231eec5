import { CmdbRejectedError, ConfigError } from '../../errors.ts';
import type { CmdbRecord } from '../../pod/record.ts';
import type { TimeBudget } from '../../retry/time-budget.ts';
import { settingName } from '../../settings/option.ts';
import type { BackendSpec, CmdbBackend, Operation, WriteResult } from '../backend.ts';
import { baseUrlOf, type CmdbConnection } from '../connection.ts';
import { createHttpClient } from '../http-client/client.ts';
import { readToken } from '../http-client/credentials.ts';
import { createIpApi } from './ip-api.ts';
import { canonicalHost, checkFieldNames, inTable, ipBody, ownerOf, podAddresses, requiredAddresses, tableName, UID_FIELD, type NetboxIp, type PodAddress } from './ip-address.ts';
import { comparableIp, listRecords } from './list-ips.ts';
import { NETBOX_OPTIONS, readNetboxSettings, type NetboxSettings } from './settings.ts';

/** --cmdb-kind netbox: tenant, tags and VRF of its own; every --field becomes a custom field. */
export const netboxBackend: BackendSpec = {
  kind: 'netbox',
  options: NETBOX_OPTIONS,
  deregisterAction: 'delete',
  configure(read, connection) {
    const settings = readNetboxSettings(read);
    // The record's --field keys become custom field names: checked when the backend opens, after the token.
    const fieldKeys = read.entries('field').filter((entry) => entry.includes('=')).map((entry) => entry.slice(0, entry.indexOf('=')).trim());
    return () => createNetboxBackend(connection, settings, fieldKeys);
  },
};

/**
 * --cmdb-kind netbox: each pod IP is an IP address in NetBox IPAM (the underlay case: pod IPs on business subnets),
 * owned through the custom field k8s_pod_uid. NetBox has no upsert: register finds the address by pod UID, else by
 * address; updates it if found, else creates it. A pod UID owns every IP of the pod, so only one container per pod
 * should run these hooks. A record is only ever changed or deleted when its k8s_pod_uid is this pod's, with one
 * exception: register takes over the leftover of a dead pod at the address Kubernetes gave this pod (pod IPs are
 * reused quickly, and preStop does not always run). A record without k8s_pod_uid was made by hand: it is never
 * touched. NetBox's API: docs/integrations/rest-api.md; the exact sources are cited in the files of this folder.
 */
function createNetboxBackend(connection: CmdbConnection, settings: NetboxSettings, fieldKeys: readonly string[]): CmdbBackend {
  const token = readToken(connection.tokenFile);
  if (!token) {
    throw new ConfigError(`${settingName('cmdb-token-file')} is required with --cmdb-kind netbox: point it at a NetBox API token (a v2 token nbt_<key>.<secret>, or a v1 token)`);
  }
  checkFieldNames(fieldKeys);
  const client = createHttpClient({ authorization: authorizationOf(token), secrets: [token, token.split('.').at(1) ?? ''], tls: connection.tls });
  const api = createIpApi(client, baseUrlOf(connection.url), settings);
  const vrf = settings.vrf;

  /** Registers one pod address: this pod's record, a dead pod's at the address, or a new one. */
  const place = async (pod: PodAddress, record: CmdbRecord, mine: NetboxIp[], attempt: TimeBudget): Promise<string> => {
    const body = ipBody(record, settings, pod.address);
    const own = mine.find((ip) => canonicalHost(ip.address) === pod.host && inTable(ip, vrf));
    if (own) return api.update(own, body, attempt);
    const leftover = takeoverOf(await api.atHost(pod.host, attempt), pod, record);
    if (leftover) return takeOver(leftover, record, body, attempt);
    const created = await api.create(body, attempt);
    if (created !== 'duplicate') return created.detail;
    // NetBox holds the host in this table after all: created between our look-up and the POST (an overlapping
    // delivery of this hook, a dead pod's record written late). Look again and take that one.
    const appeared = takeoverOf(await api.atHost(pod.host, attempt), pod, record);
    if (appeared) return takeOver(appeared, record, body, attempt);
    throw new CmdbRejectedError(`NetBox refused to create ${pod.address} as a duplicate in ${tableName(vrf)}, yet lists no IP address at it; check the token's view permission on IP addresses`);
  };

  const takeOver = async (ip: NetboxIp, record: CmdbRecord, body: unknown, attempt: TimeBudget): Promise<string> => {
    const detail = await api.update(ip, body, attempt);
    const previous = ownerOf(ip);
    return previous === record.pod.uid ? detail : `${detail}, taken over from dead pod ${previous}`;
  };

  /** deregister: delete or retire this pod's records, and only those. */
  const withdraw = async (record: CmdbRecord, attempt: TimeBudget, retire: boolean): Promise<WriteResult> => {
    const uid = record.pod.uid;
    const mine = (await api.byUid(uid, attempt)).filter((ip) => ownerOf(ip) === uid);
    if (mine.length === 0) {
      const newer = await newerOwner(record, attempt, retire);
      return newer ? { detail: newer, leftAlone: newer } : { detail: `no IP address in NetBox has ${UID_FIELD} ${uid}`, alreadyGone: true };
    }
    const details: string[] = [];
    let gone = 0;
    for (const ip of mine) {
      if (retire) {
        details.push(`${await api.update(ip, { status: 'deprecated' }, attempt)} deprecated`);
      } else {
        const removed = await api.remove(ip, attempt);
        details.push(removed.detail);
        if (removed.gone) gone++;
      }
    }
    return { detail: details.join('; '), ...(gone === mine.length ? { alreadyGone: true } : {}) };
  };

  /** Why nothing of this pod is left: a newer pod holds its address (it took the leftover over). */
  const newerOwner = async (record: CmdbRecord, attempt: TimeBudget, retire: boolean): Promise<string | undefined> => {
    for (const pod of podAddresses(record)) {
      for (const ip of await api.atHost(pod.host, attempt)) {
        const owner = ownerOf(ip);
        if (owner && owner !== record.pod.uid) {
          return `IP address ${ip.address} (id ${ip.id}) now has ${UID_FIELD} ${owner}, a newer pod at this address; not this pod's to ${retire ? 'retire' : 'delete'}`;
        }
      }
    }
    return undefined;
  };

  return {
    list: (cluster, attempt, after) => listRecords(api, { vrf }, cluster, attempt, after),
    comparable: comparableIp,
    warmUp: () => client.warmUp(),
    check(record) {
      const addresses = requiredAddresses(record);
      // A hostNetwork pod has the node's address: every such pod on the node would claim it, and each would take the
      // record over from a pod that is alive. Pod IPs are what this backend records.
      if (record.node.ip && addresses.some((pod) => pod.host === canonicalHost(record.node.ip ?? ''))) {
        throw new ConfigError(`POD_IP ${record.pod.ip ?? ''} is the node's address (HOST_IP): a hostNetwork pod has no IP of its own for NetBox to record; do not run the netbox hooks in hostNetwork pods`);
      }
    },
    async upsert(record, attempt) {
      const addresses = requiredAddresses(record);
      const mine = await api.byUid(record.pod.uid, attempt);
      const details: string[] = [];
      for (const pod of addresses) details.push(await place(pod, record, mine, attempt));
      return { detail: details.join('; ') };
    },
    remove: (record, attempt) => withdraw(record, attempt, false),
    retire: (record, attempt) => withdraw(record, attempt, true),
    plan: (operation, record) => planOf(operation, record),
  };

  /** For --dry-run: the look-ups and both possible writes, as they would go out (token masked). */
  function planOf(operation: Operation, record: CmdbRecord): unknown {
    const uid = record.pod.uid;
    const steps: unknown[] = [{ step: `look up this pod's IP addresses by ${UID_FIELD}`, ...client.describe(api.requests.byUid(uid)) }];
    if (operation === 'upsert') {
      for (const pod of requiredAddresses(record)) {
        const body = ipBody(record, settings, pod.address);
        steps.push(
          { step: `if ${pod.address} is not among them: look it up by address, keeping those in ${tableName(vrf)}`, ...client.describe(api.requests.atHost(pod.host)) },
          { step: `if found (this pod's, or a dead pod's; never one without ${UID_FIELD}): update it`, ...client.describe(api.requests.update('{id}', body)) },
          { step: 'if not found: create it', ...client.describe(api.requests.create(body)) },
        );
      }
    } else {
      const write = operation === 'retire' ? api.requests.update('{id}', { status: 'deprecated' }) : api.requests.remove('{id}');
      steps.push({ step: `for each one whose ${UID_FIELD} is ${uid}`, ...client.describe(write) });
    }
    return { cmdbKind: 'netbox', steps };
  }
}

/**
 * The token's form picks the scheme: v2 tokens (NetBox 4.5+) are `nbt_<key>.<secret>` and go as `Bearer`, v1 tokens
 * as `Token` (TOKEN_PREFIX in netbox/users/constants.py; the header forms in netbox/netbox/tests/test_authentication.py).
 */
function authorizationOf(token: string): string {
  return token.startsWith('nbt_') ? `Bearer ${token}` : `Token ${token}`;
}

/**
 * Which record at this pod's address register may write: its own (an overlapping delivery made it), else a dead
 * pod's leftover. One without k8s_pod_uid was made by hand or by another tool: it is left as it is, and that stops
 * the register, since the address cannot be registered without touching it.
 */
function takeoverOf(found: NetboxIp[], pod: PodAddress, record: CmdbRecord): NetboxIp | undefined {
  const handMade = found.find((ip) => !ownerOf(ip));
  if (handMade) {
    throw new CmdbRejectedError(
      `delete NetBox IP address ${handMade.address} (id ${handMade.id}) or set its ${UID_FIELD} to ${record.pod.uid} if this pod may own it: it holds this pod's address ${pod.address} and has no ${UID_FIELD}, so it was made by hand or by another tool, and cmdb-hook leaves it alone`,
    );
  }
  return found.find((ip) => ownerOf(ip) === record.pod.uid) ?? found[0];
}
