import { CmdbRejectedError, ConfigError } from '../../errors.ts';
import type { CmdbRecord } from '../../pod/record.ts';
import type { TimeBudget } from '../../retry/time-budget.ts';
import { settingName } from '../../settings/option.ts';
import type { BackendSpec, CmdbBackend, WriteResult } from '../backend.ts';
import { baseUrlOf, type CmdbConnection } from '../connection.ts';
import { parseJson, statusLine } from '../http-client/answers.ts';
import { createHttpClient } from '../http-client/client.ts';
import { readPassword, readToken } from '../http-client/credentials.ts';
import type { HttpRequest } from '../http-client/http-types.ts';
import { failedAnswer, objectOf, readReconcileAnswer, serviceNowError } from './answers.ts';
import { comparableCi, listCis } from './list-cis.ts';
import { readServicenowSettings, SERVICENOW_OPTIONS, type ServicenowSettings } from './settings.ts';

/** --cmdb-kind servicenow: its data source and basic-auth settings; deregister retires by default (CIs are kept). */
export const servicenowBackend: BackendSpec = {
  kind: 'servicenow',
  options: SERVICENOW_OPTIONS,
  deregisterAction: 'retire',
  configure(read, connection) {
    const settings = readServicenowSettings(read);
    return () => createServicenowBackend(connection, settings);
  },
};

/** The class of the CI: one per pod, identified by the pod UID (k8s_uid). */
const POD_CLASS = 'cmdb_ci_kubernetes_pod';

/** install_status choices of cmdb_ci: 1 Installed, 7 Retired, 100 Absent (ServiceNow's cmdb_ci dictionary). */
const INSTALLED = '1';
const RETIRED = '7';

/**
 * --cmdb-kind servicenow: a cmdb_ci_kubernetes_pod CI per pod, written through Identification and Reconciliation
 * (POST /api/now/identifyreconcile), which finds the CI by k8s_uid and the source native key, so writing it twice
 * updates the same CI. Retiring is the same call with install_status 7; deleting goes through the Table API, and only
 * for a CI whose k8s_uid is this pod's UID.
 *
 * The CI is the pod's, not a container's: a pod should run the servicenow hooks from one container only, or the
 * first container to stop would retire the CI while the others still run.
 */
function createServicenowBackend(connection: CmdbConnection, settings: ServicenowSettings): CmdbBackend {
  const { dataSource } = settings;
  const { authorization, secrets } = credentialsOf(connection, settings);
  const client = createHttpClient({ authorization, secrets, tls: connection.tls });
  const mask = client.mask;
  // Without --cmdb-url (only allowed with --dry-run) the plan shows where the instance goes.
  const base = instanceUrlOf(connection.url);

  const reconcileRequest = (record: CmdbRecord, installStatus: string): HttpRequest => ({
    method: 'POST',
    url: `${base}/api/now/identifyreconcile?sysparm_data_source=${encodeURIComponent(dataSource)}`,
    body: { items: [podItem(record, dataSource, installStatus)] },
  });
  // sysparm_fields: the guard needs k8s_uid, the delete needs sys_id; the name is for messages.
  const lookUpRequest = (record: CmdbRecord): HttpRequest => ({
    method: 'GET',
    url: `${base}/api/now/table/${POD_CLASS}?sysparm_query=k8s_uid=${encodeURIComponent(record.pod.uid)}&sysparm_fields=sys_id,k8s_uid,name&sysparm_limit=1`,
  });
  const deleteRequest = (sysId: string): HttpRequest => ({ method: 'DELETE', url: `${base}/api/now/table/${POD_CLASS}/${sysId}` });

  const reconcile = async (record: CmdbRecord, installStatus: string, attempt: TimeBudget): Promise<WriteResult> => {
    const request = reconcileRequest(record, installStatus);
    const response = await client.send(request, attempt);
    if (response.status < 200 || response.status >= 300) throw failedAnswer(request, response, mask);
    return readReconcileAnswer(request, response, mask);
  };

  const remove = async (record: CmdbRecord, attempt: TimeBudget): Promise<WriteResult> => {
    const uid = record.pod.uid;
    const lookUp = lookUpRequest(record);
    const found = await client.send(lookUp, attempt);
    const status = statusLine(found);
    // Version 1 of the Table API answers an empty query with 404 and an error body (c_TableAPI.md).
    if (found.status === 404 && serviceNowError(found.body)) return { detail: `${status}, no ${POD_CLASS} with k8s_uid ${uid}`, alreadyGone: true };
    if (found.status < 200 || found.status >= 300) throw failedAnswer(lookUp, found, mask);
    const rows = objectOf(parseJson(found.body))?.result;
    if (!Array.isArray(rows)) throw new CmdbRejectedError(`${lookUp.method} ${mask(lookUp.url)} answered ${status} without a result list`, { status: found.status });
    const ci = objectOf(rows[0]);
    if (!ci) return { detail: `${status}, no ${POD_CLASS} with k8s_uid ${uid}`, alreadyGone: true };
    const sysId = typeof ci.sys_id === 'string' ? ci.sys_id : '';
    // ServiceNow drops the parts of sysparm_query it does not know (an instance without k8s_uid on the class answers
    // with any pod): whatever the query said, only a CI that shows this pod's UID is deleted.
    if (ci.k8s_uid !== uid) {
      const held = ci.k8s_uid === undefined ? 'no k8s_uid field' : `k8s_uid ${JSON.stringify(ci.k8s_uid)}`;
      return { detail: status, leftAlone: `the ${POD_CLASS} CI ${sysId || '(no sys_id)'} found for k8s_uid ${uid} has ${held}, not this pod's UID` };
    }
    if (!/^[0-9a-f]{32}$/.test(sysId)) throw new CmdbRejectedError(`${lookUp.method} ${mask(lookUp.url)} answered a CI without a valid sys_id: ${JSON.stringify(sysId)}`);
    const request = deleteRequest(sysId);
    const deleted = await client.send(request, attempt);
    const detail = statusLine(deleted);
    if (deleted.status >= 200 && deleted.status < 300) return { detail };
    // Deleted by someone else between the look-up and the delete: gone is gone.
    if (deleted.status === 404) return { detail, alreadyGone: true };
    throw failedAnswer(request, deleted, mask);
  };

  const listing = { base, podClass: POD_CLASS, dataSource };
  return {
    list: (cluster, attempt, after) => listCis(client, listing, cluster, attempt, after),
    comparable: comparableCi,
    warmUp: () => client.warmUp(),
    upsert: (record, attempt) => reconcile(record, INSTALLED, attempt),
    retire: (record, attempt) => reconcile(record, RETIRED, attempt),
    remove,
    plan: (operation, record) =>
      operation === 'remove'
        ? { lookUp: client.describe(lookUpRequest(record)), deleteIfTheCiHasThisPodsUid: client.describe(deleteRequest('<sys_id>')) }
        : client.describe(reconcileRequest(record, operation === 'retire' ? RETIRED : INSTALLED)),
  };
}

/**
 * The payload item: documented fields of cmdb_ci_kubernetes_pod (ServiceNowDocs it-operations-management/discovery/
 * kubernetes-discovery.md, "Data collected by Discovery": name, k8s_uid, namespace, cluster, state) plus ip_address
 * and install_status of cmdb_ci. The source native key is the pod UID, so IRE ties every run of this pod to one CI.
 */
function podItem(record: CmdbRecord, dataSource: string, installStatus: string) {
  return {
    className: POD_CLASS,
    values: {
      name: record.pod.name,
      k8s_uid: record.pod.uid,
      namespace: record.namespace,
      cluster: record.cluster,
      // The pod phase: the hook runs in a started container, and it was seen ready.
      state: 'Running',
      ...(record.pod.ip ? { ip_address: record.pod.ip } : {}),
      install_status: installStatus,
    },
    sys_object_source_info: {
      source_name: dataSource,
      source_native_key: record.pod.uid,
      // UTC, "YYYY-MM-DD hh:mm:ss" (c_IdentifyReconcileAPI.md).
      source_recency_timestamp: record.observedAt.slice(0, 19).replace('T', ' '),
    },
  };
}

/** Basic (--cmdb-user, --cmdb-password-file) or bearer (--cmdb-token-file); settings.ts refuses both at once. */
function credentialsOf(connection: CmdbConnection, settings: ServicenowSettings): { authorization: string; secrets: string[] } {
  const token = readToken(connection.tokenFile);
  if (token) return { authorization: `Bearer ${token}`, secrets: [token] };
  const user = settings.user;
  if (!user) {
    throw new ConfigError(
      `--cmdb-kind servicenow needs credentials: ${settingName('cmdb-user')} with ${settingName('cmdb-password-file')} for basic auth, or ${settingName('cmdb-token-file')} for an OAuth bearer token`,
    );
  }
  // RFC 7617: the user-id of basic auth cannot contain a colon.
  if (user.includes(':')) throw new ConfigError(`${settingName('cmdb-user')} must not contain ':'; basic auth cannot carry it`);
  const password = readPassword(settings.passwordFile);
  if (!password) throw new ConfigError(`${settingName('cmdb-password-file')} is required with ${settingName('cmdb-user')}`);
  const credentials = `${user}:${password}`;
  const encoded = Buffer.from(credentials, 'utf8').toString('base64');
  // The masker adds the base64 forms of each secret: those of the user:password pair cover the header's value in
  // every alphabet and padding; the header's value itself also in its own escaped and encoded forms.
  return { authorization: `Basic ${encoded}`, secrets: [password, credentials, encoded] };
}

/** The instance's base URL, e.g. https://acme.service-now.com: the API paths are added here. */
function instanceUrlOf(url: URL | undefined): string {
  if (!url) return '<cmdb-url>';
  if (/\/api(\/|$)/.test(url.pathname)) {
    throw new ConfigError(`${settingName('cmdb-url')} ${url.href} holds an API path; with --cmdb-kind servicenow give the instance URL, e.g. https://acme.service-now.com`);
  }
  return baseUrlOf(url);
}
