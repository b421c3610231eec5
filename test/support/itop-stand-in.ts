/**
 * A stand-in for iTop's REST/JSON API, enforcing its documented contract. Sources (Combodo/iTop):
 * webservices/rest.php (one entry point; `version` and `json_data` read as request parameters; json_data must be a
 * JSON structure; every answer is HTTP 200 with {code, message}; an exception becomes code != 0 and message
 * "Error: ..."), core/restservices.class.inc.php (core/get, core/create, core/update, core/delete; comment mandatory
 * for writes through RestUtils::InitTrackingComment; objects keyed "<class>::<id>" with code, message, class, key and
 * fields; "Found: n"; core/delete deletes every object the key matches, "Deleted: n"). Result codes as in RestResult:
 * 0 OK, 1 UNAUTHORIZED, 2 MISSING_VERSION, 3 MISSING_JSON, 4 INVALID_JSON, 10 UNSUPPORTED_VERSION,
 * 11 UNKNOWN_OPERATION, 100 INTERNAL_ERROR (an exception without a code, e.g. "Missing parameter 'comment'").
 * The token comes in the Auth-Token header (iTop's token authentication).
 */
import { startStandIn, type StandIn, type StandInAnswer, type StandInRequest } from './stand-in.ts';

export interface ItopOptions {
  token: string;
  /** The class's attributes; one the class lacks is an error, as iTop's MakeObjectFromFields refuses it. */
  attributes?: string[];
}

export interface ItopStandIn extends StandIn {
  /** id -> the object's fields, in class K8sPod. */
  objects: Map<number, Record<string, unknown>>;
}

export const ITOP_CLASS = 'K8sPod';
export const ITOP_ATTRIBUTES = ['name', 'k8s_record_id', 'pod_uid', 'namespace', 'cluster', 'container', 'pod_ip', 'node_name', 'app', 'k8s_state', 'observed_at'];
const VERSIONS = ['1.0', '1.1', '1.2', '1.3'];

const answer = (code: number, message: string, objects?: Record<string, unknown> | null): StandInAnswer => ({
  status: 200,
  body: objects === undefined ? { code, message } : { objects, code, message },
});
const error = (code: number, message: string) => answer(code, `Error: ${message}`);

export async function startItop(options: ItopOptions): Promise<ItopStandIn> {
  const attributes = options.attributes ?? ITOP_ATTRIBUTES;
  const objects = new Map<number, Record<string, unknown>>();
  let nextId = 12;

  const report = (ids: number[], message: string) => {
    const found = Object.fromEntries(ids.map((id) => [`${ITOP_CLASS}::${id}`, { code: 0, message: '', class: ITOP_CLASS, key: String(id), fields: { id: String(id) } }]));
    return answer(0, message, ids.length > 0 ? found : null);
  };
  const matching = (key: unknown): number[] | string => {
    if (typeof key === 'number' || (typeof key === 'string' && /^\d+$/.test(key))) return objects.has(Number(key)) ? [Number(key)] : [];
    if (key !== null && typeof key === 'object' && !Array.isArray(key)) {
      const criteria = Object.entries(key);
      return [...objects.entries()].filter(([, fields]) => criteria.every(([attr, value]) => fields[attr] === value)).map(([id]) => id);
    }
    return `the stand-in takes a key that is an id or {attribute: value}, not ${JSON.stringify(key)}`;
  };

  const route = (request: StandInRequest): StandInAnswer => {
    if (request.path !== '/webservices/rest.php') return { status: 404, body: '<html><body>Not Found</body></html>', headers: { 'content-type': 'text/html' } };
    if (request.headers['auth-token'] !== options.token) return error(1, 'Invalid login');
    const version = request.query.get('version') ?? request.form?.get('version');
    if (!version) return error(2, "Missing parameter 'version' (e.g. '1.0')");
    if (!VERSIONS.includes(version)) return error(10, `There is no service available for version '${version}'`);
    const jsonData = request.form?.get('json_data') ?? request.query.get('json_data');
    if (!jsonData) return error(3, "Missing parameter 'json_data");
    let data: Record<string, unknown>;
    try {
      data = JSON.parse(jsonData) as Record<string, unknown>;
    } catch {
      return error(4, 'Parameter json_data is not a valid JSON structure');
    }
    const operation = data.operation;
    if (typeof operation !== 'string') return error(100, "Missing parameter 'operation'");
    if (!['core/get', 'core/create', 'core/update', 'core/delete'].includes(operation)) return error(11, `Unknown verb '${operation}' in version '${version}'`);
    if (operation !== 'core/get' && (typeof data.comment !== 'string' || data.comment === '')) return error(100, "Missing parameter 'comment'");
    if (data.class !== ITOP_CLASS) return error(100, `Unknown class '${String(data.class)}'`);

    let fields: Record<string, unknown> = {};
    if (operation === 'core/create' || operation === 'core/update') {
      if (data.fields === null || typeof data.fields !== 'object' || Array.isArray(data.fields)) return error(100, "Missing parameter 'fields'");
      fields = data.fields as Record<string, unknown>;
      const unknown = Object.keys(fields).find((attr) => !attributes.includes(attr));
      if (unknown) return error(100, `Invalid attribute code '${unknown}' for class '${ITOP_CLASS}'`);
      const notScalar = Object.entries(fields).find(([, value]) => value !== null && typeof value === 'object');
      if (notScalar) return error(100, `${notScalar[0]}: a scalar value is expected`);
    }
    if (operation === 'core/create') {
      // iTop 3.1+ uniqueness rule on k8s_record_id.
      if ([...objects.values()].some((other) => other.k8s_record_id === fields.k8s_record_id)) return error(100, `uniqueness rule: k8s_record_id ${String(fields.k8s_record_id)} already exists`);
      const id = nextId++;
      objects.set(id, { ...fields });
      return report([id], '');
    }
    if (data.key === undefined) return error(100, "Missing parameter 'key'");
    const ids = matching(data.key);
    if (typeof ids === 'string') return error(100, ids);
    if (operation === 'core/get') return report(ids, `Found: ${ids.length}`);
    if (operation === 'core/delete') {
      for (const id of ids) objects.delete(id);
      return report(ids, `Deleted: ${ids.length}`);
    }
    if (ids.length !== 1) return error(100, ids.length === 0 ? `No item found with criteria: ${JSON.stringify(data.key)}` : `Several items found (${ids.length}) with criteria: ${JSON.stringify(data.key)}`);
    const id = ids[0] as number;
    objects.set(id, { ...objects.get(id), ...fields });
    return report([id], '');
  };

  const standIn = await startStandIn((request) => {
    // rest.php reads parameters from the query or a form body; anything else is not a parameter at all.
    if (request.method !== 'GET' && request.method !== 'POST') return { status: 405, body: 'Method Not Allowed' };
    if (request.method === 'POST' && !request.form && request.text) return error(3, "Missing parameter 'json_data");
    return route(request);
  });
  return Object.assign(standIn, { objects });
}
