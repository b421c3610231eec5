/**
 * A ServiceNow instance as far as --cmdb-kind servicenow sees it, enforcing the documented contract:
 * - ServiceNow/ServiceNowDocs markdown/api-reference/rest-apis/c_IdentifyReconcileAPI.md: POST /api/now/identifyreconcile,
 *   sysparm_data_source one of the choices of cmdb_ci.discovery_source, items[].className (required), values,
 *   sys_object_source_info {source_name, source_native_key}; Accept and Content-Type application/json only; HTTP 200
 *   with result.items[] {className, operation INSERT|UPDATE|NO_CHANGE, sysId, errors[{error, message}], errorCount}
 *   even when the item failed.
 * - markdown/api-reference/rest-apis/c_TableAPI.md: GET /api/now/table/{table}?sysparm_query=<encoded query>&sysparm_fields
 *   &sysparm_limit -> 200 {"result":[...]} (an empty array when nothing matches); the encoded query's parts are joined
 *   by ^: <col>=, !=, >, >=, <, <= <value>, <col>ISNOTEMPTY, ORDERBY<col> / ORDERBYDESC<col>; a part on a field the
 *   table lacks, or one that cannot be read, is dropped and the rest applied; unknown sysparm_fields are ignored;
 *   sys_updated_on is UTC "YYYY-MM-DD hh:mm:ss"; DELETE /api/now/table/{table}/{sys_id} -> 204 with no body.
 * - markdown/it-operations-management/discovery/kubernetes-discovery.md: the fields of cmdb_ci_kubernetes_pod.
 * - the REST API docs: Basic or OAuth bearer auth; errors as {"error":{"message","detail"},"status":"failure"}.
 * Inferences, not documented: the exact wording of error messages, 400 for a malformed payload, 415 for another content
 * type, and IRE's warning (not error) for a field the class does not have.
 */
import { randomBytes } from 'node:crypto';
import { startStandIn, type StandIn, type StandInAnswer, type StandInRequest } from './stand-in.ts';

export const POD_CLASS = 'cmdb_ci_kubernetes_pod';
// kubernetes-discovery.md lists name, k8s_uid, resourceVersion, namespace, cluster and state; the rest come from cmdb_ci.
const POD_FIELDS = ['sys_id', 'sys_class_name', 'name', 'k8s_uid', 'resourceVersion', 'namespace', 'cluster', 'state', 'ip_address', 'install_status', 'discovery_source', 'sys_updated_on'];

export interface IreError {
  error: string;
  message: string;
}

export interface ServicenowOptions {
  /** Basic auth credentials the instance accepts. */
  user?: string;
  password?: string;
  /** An OAuth access token the instance accepts as `Authorization: Bearer`. */
  token?: string;
  /** The choices of cmdb_ci.discovery_source. Default: ['cmdb-hook']. */
  discoverySources?: string[];
  /** Fields this instance's cmdb_ci_kubernetes_pod lacks (e.g. k8s_uid, to show a query that ServiceNow ignores). */
  missingFields?: string[];
  /** The Table API drops the whole sysparm_query (as it does with a query it cannot read: c_TableAPI.md) and lists
   *  every CI: only the client's own k8s_uid check keeps another pod's CI from being deleted. */
  queryIgnored?: boolean;
  /** The Table API ignores ORDERBY (to show that the client checks the order of what it gets). */
  orderIgnored?: boolean;
  /** 401 answers repeat the Authorization header they got (a badly behaved proxy): output must still mask it. */
  echoAuthorization?: boolean;
}

export interface ServicenowStandIn extends StandIn {
  /** The CIs of cmdb_ci_kubernetes_pod by sys_id. */
  cis: Map<string, Record<string, string>>;
  /** Inserts a CI as another source would have (no IRE); returns its sys_id. */
  seed(values: Record<string, string>): string;
  /** The next `times` IRE calls answer 200 with these item errors. */
  failItems(errors: IreError[], times?: number): void;
}

interface Condition {
  field: string;
  operator: string;
  value: string;
}

/** One part of an encoded query, or undefined when it cannot be read. */
function conditionOf(part: string): Condition | undefined {
  const order = /^(ORDERBYDESC|ORDERBY)(\w+)$/.exec(part);
  if (order) return { field: order[2] ?? '', operator: order[1] ?? '', value: '' };
  const empty = /^(\w+?)(ISNOTEMPTY|ISEMPTY)$/.exec(part);
  if (empty) return { field: empty[1] ?? '', operator: empty[2] ?? '', value: '' };
  const compared = /^(\w+?)(!=|>=|<=|=|>|<)(.*)$/.exec(part);
  return compared ? { field: compared[1] ?? '', operator: compared[2] ?? '', value: compared[3] ?? '' } : undefined;
}

const compare = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

function matches(actual: string | undefined, { operator, value }: Condition): boolean {
  const have = actual ?? '';
  switch (operator) {
    case '=': return have === value;
    case '!=': return have !== value;
    case '>': return compare(have, value) > 0;
    case '>=': return compare(have, value) >= 0;
    case '<': return compare(have, value) < 0;
    case '<=': return compare(have, value) <= 0;
    case 'ISNOTEMPTY': return have !== '';
    case 'ISEMPTY': return have === '';
    default: return true;
  }
}

/** UTC "YYYY-MM-DD hh:mm:ss", as the Table API shows sys_updated_on. */
const now = () => new Date().toISOString().slice(0, 19).replace('T', ' ');

const failure = (status: number, message: string, detail: string | null): StandInAnswer => ({ status, body: { error: { message, detail }, status: 'failure' } });

export async function startServicenowStandIn(options: ServicenowOptions = {}): Promise<ServicenowStandIn> {
  const sources = options.discoverySources ?? ['cmdb-hook'];
  const fields = POD_FIELDS.filter((field) => !options.missingFields?.includes(field));
  const cis = new Map<string, Record<string, string>>();
  const itemFailures: IreError[][] = [];
  const newSysId = () => randomBytes(16).toString('hex');

  const authorized = (request: StandInRequest): boolean => {
    const header = request.headers.authorization ?? '';
    if (options.token && header === `Bearer ${options.token}`) return true;
    if (options.user && options.password && header.startsWith('Basic ')) {
      return Buffer.from(header.slice(6), 'base64').toString('utf8') === `${options.user}:${options.password}`;
    }
    return false;
  };

  const reconcile = (request: StandInRequest): StandInAnswer => {
    if (!String(request.headers['content-type']).startsWith('application/json')) return failure(415, 'Unsupported Media Type', 'Content-Type must be application/json');
    if (!String(request.headers.accept).includes('application/json')) return failure(406, 'Not Acceptable', 'Accept must be application/json');
    const body = request.json as { items?: unknown } | undefined;
    if (!body || !Array.isArray(body.items) || body.items.length === 0) return failure(400, 'Invalid payload', 'items must be a non-empty array');
    const dataSource = request.query.get('sysparm_data_source');
    const results = (body.items as Record<string, unknown>[]).map((item, index) => {
      const className = item.className;
      const values = item.values as Record<string, unknown> | undefined;
      const source = item.sys_object_source_info as Record<string, unknown> | undefined;
      if (typeof className !== 'string' || typeof values !== 'object' || typeof source !== 'object' || typeof source.source_name !== 'string' || typeof source.source_native_key !== 'string') {
        return undefined;
      }
      const errors: IreError[] = [];
      const warnings: IreError[] = [];
      // No or an unknown data source: the payload only lands in the incomplete payloads table.
      if (!dataSource || !sources.includes(dataSource) || !sources.includes(source.source_name)) {
        errors.push({ error: 'INVALID_INPUT_DATA', message: `Invalid data source [${dataSource ?? ''}]: not a choice of discovery_source in cmdb_ci` });
      } else if (className !== POD_CLASS) {
        errors.push({ error: 'IDENTIFICATION_RULE_MISSING', message: `Identity Rule Missing for table [${className}]` });
      } else if (typeof values.k8s_uid !== 'string' || !values.k8s_uid || !fields.includes('k8s_uid')) {
        errors.push({ error: 'MISSING_MATCHING_ATTRIBUTES', message: `In payload missing minimum set of input values for criterion (matching) attributes from identify rule for table [${POD_CLASS}]` });
      }
      errors.push(...(itemFailures.shift() ?? []));
      const base = { className, inputIndices: [index], markers: [], mergedPayloadIds: [], identificationAttempts: [] };
      if (errors.length > 0) return { ...base, operation: 'NO_CHANGE', sysId: 'Unknown', identifierEntrySysId: 'Unknown', errors, errorCount: errors.length };
      for (const field of Object.keys(values)) {
        if (!fields.includes(field)) warnings.push({ error: 'UNKNOWN_FIELD', message: `Field [${field}] does not exist in table [${POD_CLASS}]` });
      }
      const known = Object.fromEntries(Object.entries(values).filter(([field]) => fields.includes(field)).map(([field, value]) => [field, String(value)]));
      const existing = [...cis.entries()].find(([, ci]) => ci.k8s_uid === known.k8s_uid);
      let operation = 'INSERT';
      let sysId: string;
      if (existing) {
        [sysId] = existing;
        const changed = Object.entries(known).some(([field, value]) => existing[1][field] !== value);
        operation = changed ? 'UPDATE' : 'NO_CHANGE';
        if (changed) Object.assign(existing[1], known, { sys_updated_on: now() });
      } else {
        sysId = newSysId();
        cis.set(sysId, { ...known, sys_id: sysId, sys_class_name: POD_CLASS, discovery_source: dataSource ?? '', sys_updated_on: now() });
      }
      return { ...base, operation, sysId, identifierEntrySysId: 'd0e5b0f5c3400200d8d4bea192d3ae99', errorCount: 0, ...(warnings.length > 0 ? { warnings } : {}) };
    });
    if (results.includes(undefined)) return failure(400, 'Invalid payload', 'each item needs className, values and sys_object_source_info with source_name and source_native_key');
    return { status: 200, body: { result: { items: results, additionalCommittedItems: [], relations: [], additionalCommittedRelations: [] } } };
  };

  const list = (request: StandInRequest): StandInAnswer => {
    // A part on a field the table lacks, or one that cannot be read, is dropped, as ServiceNow does.
    const parts = options.queryIgnored ? [] : (request.query.get('sysparm_query') ?? '').split('^').filter(Boolean);
    const conditions = parts.map(conditionOf).filter((condition) => condition !== undefined && fields.includes(condition.field)) as Condition[];
    const order = options.orderIgnored ? undefined : conditions.find((condition) => condition.operator === 'ORDERBY' || condition.operator === 'ORDERBYDESC');
    const limit = Number(request.query.get('sysparm_limit') ?? 10000);
    const wanted = (request.query.get('sysparm_fields') ?? '').split(',').filter((field) => fields.includes(field));
    const matching = [...cis.values()].filter((ci) => conditions.every((condition) => matches(ci[condition.field], condition)));
    if (order) matching.sort((a, b) => compare(a[order.field] ?? '', b[order.field] ?? '') * (order.operator === 'ORDERBYDESC' ? -1 : 1));
    const rows = matching
      .slice(0, limit)
      .map((ci) => Object.fromEntries(Object.entries(ci).filter(([field]) => (wanted.length > 0 ? wanted : fields).includes(field))));
    return { status: 200, body: { result: rows }, headers: { 'x-total-count': String(rows.length) } };
  };

  const route = (request: StandInRequest): StandInAnswer => {
    if (!authorized(request)) {
      const echo = options.echoAuthorization ? ` (got ${request.headers.authorization ?? 'nothing'})` : '';
      return failure(401, 'User Not Authenticated', `Required to provide Auth information${echo}`);
    }
    const table = `/api/now/table/${POD_CLASS}`;
    if (request.method === 'POST' && request.path === '/api/now/identifyreconcile') return reconcile(request);
    if (request.method === 'GET' && request.path === table) return list(request);
    if (request.method === 'DELETE' && request.path.startsWith(`${table}/`)) {
      const sysId = request.path.slice(table.length + 1);
      if (!cis.delete(sysId)) return failure(404, 'No Record found', 'Record doesn\'t exist or ACL restricts the record retrieval');
      return { status: 204 };
    }
    return failure(400, 'Requested URI does not represent any resource', null);
  };

  const standIn = await startStandIn(route);
  return {
    ...standIn,
    cis,
    seed(values) {
      const sysId = newSysId();
      cis.set(sysId, { sys_updated_on: now(), ...values, sys_id: sysId, sys_class_name: POD_CLASS });
      return sysId;
    },
    failItems: (errors, times = 1) => void itemFailures.push(...Array.from({ length: times }, () => errors)),
  };
}
