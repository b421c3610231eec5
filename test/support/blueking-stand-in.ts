/**
 * A stand-in for Blueking CMDB's generic model instance API behind the Blueking API gateway, enforcing its
 * documented contract. Sources (TencentBlueKing/bk-cmdb): docs/apidoc/apigw/backend/bk_apigw_resources_bk-cmdb.yaml
 * (create_inst POST /api/v3/create/instance/object/{bk_obj_id}, update_inst PUT
 * /api/v3/update/instance/object/{bk_obj_id}/inst/{bk_inst_id}, delete_inst DELETE
 * /api/v3/delete/instance/object/{bk_obj_id}/inst/{bk_inst_id}), docs/apidoc/apigw/backend/en/create_inst.md,
 * update_inst.md and search_object_instances.md (POST /api/v3/search/instances/object/{bk_obj_id} with conditions and
 * page.limit <= 500; the path is the one bk-cmdb's own toposerver client uses). Every answer of the CMDB is HTTP 200
 * with {result, code, message, permission, data}; a failure is result false with a non-zero code. The code numbers
 * below are illustrative, not copied from bk-cmdb. The gateway's own answer to bad app credentials (401 here) is an
 * inference; X-Bkapi-Authorization is a JSON object {bk_app_code, bk_app_secret, bk_username}.
 */
import { startStandIn, type StandIn, type StandInAnswer, type StandInRequest } from './stand-in.ts';

export interface BluekingOptions {
  appCode: string;
  appSecret: string;
  /** The model's id and its attributes; an attribute the model lacks is refused, as bk-cmdb validates instances. */
  model?: { id: string; attributes: string[] };
  /** The attribute with a uniqueness rule. */
  unique?: string;
}

export interface BluekingStandIn extends StandIn {
  /** bk_inst_id -> the instance's attributes. */
  instances: Map<number, Record<string, unknown>>;
}

export const BLUEKING_MODEL = {
  id: 'k8s_pod',
  attributes: ['bk_inst_name', 'k8s_record_id', 'k8s_pod_uid', 'k8s_pod_name', 'k8s_namespace', 'k8s_cluster', 'k8s_container', 'k8s_pod_ip', 'k8s_node', 'k8s_app', 'k8s_state', 'k8s_observed_at'],
};

const ok = (data: unknown): StandInAnswer => ({ status: 200, body: { result: true, code: 0, message: 'success', permission: null, data } });
const fail = (code: number, message: string): StandInAnswer => ({ status: 200, body: { result: false, code, message, permission: null, data: null } });

export async function startBlueking(options: BluekingOptions): Promise<BluekingStandIn> {
  const model = options.model ?? BLUEKING_MODEL;
  const unique = options.unique ?? 'k8s_record_id';
  const instances = new Map<number, Record<string, unknown>>();
  let nextId = 1177099;

  const route = (request: StandInRequest): StandInAnswer => {
    const denied = checkAuth(request, options);
    if (denied) return denied;
    const match = /^\/api\/v3\/(search\/instances|create\/instance|update\/instance|delete\/instance)\/object\/([^/]+)(?:\/inst\/([^/]+))?$/.exec(request.path);
    if (!match) return { status: 404, body: { result: false, code: 1640404, message: `resource not found: ${request.method} ${request.path}`, data: null } };
    const [, action, objId, instText] = match;
    if (objId !== model.id) return fail(1101030, `model ${objId} does not exist`);
    const expected = { 'search/instances': 'POST', 'create/instance': 'POST', 'update/instance': 'PUT', 'delete/instance': 'DELETE' }[action ?? ''];
    if (request.method !== expected || (action === 'update/instance' || action === 'delete/instance') !== (instText !== undefined)) {
      return { status: 404, body: { result: false, code: 1640404, message: `resource not found: ${request.method} ${request.path}`, data: null } };
    }
    if (request.method !== 'DELETE' && !(request.headers['content-type'] ?? '').startsWith('application/json')) return fail(1199001, 'request body must be JSON');
    const body = (request.json ?? {}) as Record<string, unknown>;
    const instId = instText === undefined ? undefined : Number(instText);

    if (action === 'search/instances') {
      const page = body.page as { start?: unknown; limit?: unknown } | undefined;
      if (typeof page?.limit !== 'number' || page.limit < 1 || page.limit > 500) return fail(1199006, 'page.limit is required, at most 500');
      const rules = (body.conditions as { condition?: string; rules?: { field: string; operator: string; value: unknown }[] } | undefined)?.rules ?? [];
      const found = [...instances.entries()].filter(([, attrs]) => rules.every((rule) => rule.operator === 'equal' && attrs[rule.field] === rule.value));
      const fields = Array.isArray(body.fields) ? (body.fields as string[]) : undefined;
      const info = found.slice(0, page.limit).map(([id, attrs]) => {
        const full: Record<string, unknown> = { bk_inst_id: id, bk_obj_id: model.id, ...attrs };
        return fields ? Object.fromEntries(fields.map((field) => [field, full[field]])) : full;
      });
      return ok({ info });
    }
    if (action === 'delete/instance') {
      if (instId === undefined || !instances.delete(instId)) return fail(1101031, `instance ${instText} does not exist`);
      return ok(null);
    }
    const attrs = Object.fromEntries(Object.entries(body).filter(([key]) => key !== 'bk_obj_id' && key !== 'bk_inst_id'));
    const unknown = Object.keys(attrs).find((key) => !model.attributes.includes(key));
    if (unknown) return fail(1199006, `attribute ${unknown} does not exist in model ${model.id}`);
    const notText = Object.entries(attrs).find(([, value]) => value !== null && typeof value !== 'string');
    if (notText) return fail(1199006, `attribute ${notText[0]} must be a string`);
    if (action === 'create/instance') {
      if (typeof attrs.bk_inst_name !== 'string' || !attrs.bk_inst_name) return fail(1199001, 'bk_inst_name is required');
      if ([...instances.values()].some((other) => other[unique] === attrs[unique])) return fail(1199014, `duplicated ${unique}: ${String(attrs[unique])}`);
      const id = nextId++;
      instances.set(id, attrs);
      return ok({ bk_inst_id: id, bk_obj_id: model.id, ...attrs });
    }
    const existing = instId === undefined ? undefined : instances.get(instId);
    if (!existing || instId === undefined) return fail(1101031, `instance ${instText} does not exist`);
    if (body.bk_inst_id !== undefined && body.bk_inst_id !== instId) return fail(1199006, 'bk_inst_id of the body differs from the path');
    instances.set(instId, { ...existing, ...attrs });
    return ok(null);
  };

  const standIn = await startStandIn(route);
  return Object.assign(standIn, { instances });
}

function checkAuth(request: StandInRequest, options: BluekingOptions): StandInAnswer | undefined {
  const header = request.headers['x-bkapi-authorization'];
  let auth: Record<string, unknown> | undefined;
  try {
    auth = typeof header === 'string' ? (JSON.parse(header) as Record<string, unknown>) : undefined;
  } catch {
    auth = undefined;
  }
  if (!auth || auth.bk_app_code !== options.appCode || auth.bk_app_secret !== options.appSecret || typeof auth.bk_username !== 'string' || !auth.bk_username) {
    return { status: 401, body: { result: false, code: 1640001, message: 'app authentication failed: check X-Bkapi-Authorization (bk_app_code, bk_app_secret, bk_username)', data: null } };
  }
  return undefined;
}
