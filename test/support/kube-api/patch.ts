/**
 * The three PATCH content types kube-apiserver takes besides server-side apply (docs: api-concepts and
 * tasks/manage-kubernetes-objects/update-api-object-kubectl-patch):
 *   application/json-patch+json            RFC 6902 operations (add, remove, replace, move, copy, test)
 *   application/merge-patch+json           RFC 7386: objects merge, null deletes, lists are replaced whole
 *   application/strategic-merge-patch+json lists with a patchMergeKey merge element by element (pod conditions by
 *     `type`, containers by `name`...; the patchStrategy/patchMergeKey tags of k8s.io/api core/v1 types.go); other
 *     lists are replaced; directives `$patch: replace|delete|merge`, `$retainKeys` and `$deleteFromPrimitiveList/<f>`
 *     (k8s.io/apimachinery pkg/util/strategicpatch). `$setElementOrder/<f>` is accepted and ignored: merged lists keep
 *     the stored order and new elements go last.
 */

type Json = unknown;
type JsonObject = Record<string, Json>;

/** A patch that cannot be applied (json-patch: 422, as the apiserver's jsonPatcher answers). */
export class PatchError extends Error {
  override name = 'PatchError';
}

const isObject = (value: Json): value is JsonObject => typeof value === 'object' && value !== null && !Array.isArray(value);

export function mergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) return structuredClone(patch);
  const result: JsonObject = isObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete result[key];
    else result[key] = mergePatch(result[key], value);
  }
  return result;
}

/** patchMergeKey of list fields, by path without list indices (k8s.io/api core/v1 and meta/v1 types.go tags). */
const CONTAINER_LISTS = { ports: 'containerPort', env: 'name', volumeMounts: 'mountPath', volumeDevices: 'devicePath' };
export const MERGE_KEYS: Record<string, string> = {
  'metadata.ownerReferences': 'uid',
  'spec.volumes': 'name',
  'spec.imagePullSecrets': 'name',
  'spec.hostAliases': 'ip',
  'spec.topologySpreadConstraints': 'topologyKey',
  'spec.schedulingGates': 'name',
  'spec.resourceClaims': 'name',
  'status.conditions': 'type',
  'status.podIPs': 'ip',
  'status.hostIPs': 'ip',
  'status.resourceClaimStatuses': 'name',
  ...Object.fromEntries(
    ['containers', 'initContainers', 'ephemeralContainers'].flatMap((list): [string, string][] => [
      [`spec.${list}`, 'name'],
      ...Object.entries(CONTAINER_LISTS).map(([field, key]): [string, string] => [`spec.${list}.${field}`, key]),
    ]),
  ),
};
/** Lists of plain values with patchStrategy merge: the patch's values are added (metadata.finalizers). */
const MERGED_VALUE_LISTS = new Set(['metadata.finalizers']);

export function strategicMergePatch(target: Json, patch: Json): Json {
  if (!isObject(patch)) throw new PatchError('a strategic merge patch must be a JSON object');
  return mergeMap(isObject(target) ? target : {}, patch, '') ?? {};
}

function mergeMap(original: JsonObject, patch: JsonObject, path: string): JsonObject | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  const body = Object.fromEntries(Object.entries(patch).filter(([key]) => key !== '$patch'));
  if (directive === 'replace') return stripDirectives(body);
  const result: JsonObject = { ...original };
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('$setElementOrder/') || key === '$retainKeys') continue;
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      const field = key.slice('$deleteFromPrimitiveList/'.length);
      const drop = Array.isArray(value) ? value : [];
      if (Array.isArray(result[field])) result[field] = (result[field] as Json[]).filter((item) => !drop.includes(item));
      continue;
    }
    const childPath = path ? `${path}.${key}` : key;
    const current = result[key];
    if (value === null) delete result[key];
    else if (isObject(value) && isObject(current)) {
      const merged = mergeMap(current, value, childPath);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else if (Array.isArray(value)) result[key] = mergeList(Array.isArray(current) ? current : [], value, childPath);
    else result[key] = isObject(value) ? (mergeMap({}, value, childPath) ?? {}) : value;
  }
  if (Array.isArray(body.$retainKeys)) {
    const keep = new Set(body.$retainKeys as string[]);
    for (const key of Object.keys(result)) if (!keep.has(key) && Object.hasOwn(original, key)) delete result[key];
  }
  return result;
}

function mergeList(original: Json[], patch: Json[], path: string): Json[] {
  const mergeKey = MERGE_KEYS[path];
  if (MERGED_VALUE_LISTS.has(path)) return [...original, ...patch.filter((item) => !original.includes(item))];
  if (!mergeKey) return patch.map((item) => (isObject(item) ? stripDirectives(item) : item));
  if (patch.some((item) => isObject(item) && item.$patch === 'replace')) return patch.filter((item) => !(isObject(item) && item.$patch === 'replace')).map((item) => (isObject(item) ? stripDirectives(item) : item));
  const result = [...original];
  for (const item of patch) {
    if (!isObject(item)) throw new PatchError(`the list at ${path} merges on "${mergeKey}": its elements must be objects`);
    if (!Object.hasOwn(item, mergeKey)) throw new PatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${mergeKey}`);
    const at = result.findIndex((existing) => isObject(existing) && existing[mergeKey] === item[mergeKey]);
    if (item.$patch === 'delete') {
      if (at >= 0) result.splice(at, 1);
    } else if (at >= 0) {
      const merged = mergeMap(result[at] as JsonObject, item, path);
      if (merged === undefined) result.splice(at, 1);
      else result[at] = merged;
    } else result.push(stripDirectives(item));
  }
  return result;
}

function stripDirectives(value: JsonObject): JsonObject {
  const out: JsonObject = {};
  for (const [key, item] of Object.entries(value)) {
    if (key.startsWith('$')) continue;
    out[key] = isObject(item) ? stripDirectives(item) : Array.isArray(item) ? (item as Json[]).map((element) => (isObject(element) ? stripDirectives(element) : element)) : item;
  }
  return out;
}

interface Operation {
  op: string;
  path: string;
  from?: string;
  value?: Json;
}

export function jsonPatch(target: Json, operations: Json): Json {
  if (!Array.isArray(operations)) throw new PatchError('a JSON patch must be a list of operations');
  let document = structuredClone(target);
  for (const raw of operations) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw new PatchError(`invalid operation ${JSON.stringify(raw)}`);
    const operation = raw as unknown as Operation;
    switch (operation.op) {
      case 'add':
        document = put(document, operation.path, operation.value, 'add');
        break;
      case 'replace':
        read(document, operation.path);
        document = put(document, operation.path, operation.value, 'replace');
        break;
      case 'remove':
        document = take(document, operation.path);
        break;
      case 'move':
      case 'copy': {
        const value = read(document, operation.from ?? '');
        if (operation.op === 'move') document = take(document, operation.from ?? '');
        document = put(document, operation.path, structuredClone(value), 'add');
        break;
      }
      case 'test':
        if (JSON.stringify(canonical(read(document, operation.path))) !== JSON.stringify(canonical(operation.value))) throw new PatchError(`testing value ${operation.path} failed: test failed`);
        break;
      default:
        throw new PatchError(`Unexpected kind: ${operation.op}`);
    }
  }
  return document;
}

const canonical = (value: Json): Json => (isObject(value) ? Object.fromEntries(Object.keys(value).sort().map((key) => [key, canonical(value[key])])) : Array.isArray(value) ? value.map(canonical) : value);

function tokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new PatchError(`JSON pointer must start with "/": ${pointer}`);
  return pointer.slice(1).split('/').map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
}

function read(document: Json, pointer: string): Json {
  let node = document;
  for (const token of tokens(pointer)) {
    if (Array.isArray(node) && /^\d+$/.test(token) && Number(token) < node.length) node = node[Number(token)];
    else if (isObject(node) && Object.hasOwn(node, token)) node = node[token];
    else throw new PatchError(`doc is missing path: "${pointer}": missing value`);
  }
  return node;
}

function put(document: Json, pointer: string, value: Json, mode: 'add' | 'replace'): Json {
  const path = tokens(pointer);
  const last = path.pop();
  if (last === undefined) return structuredClone(value);
  const parent = read(document, path.length ? `/${path.map((token) => token.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}` : '');
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (!/^(\d+|-)$/.test(last) || index > parent.length) throw new PatchError(`add operation does not apply: doc is missing path: "${pointer}"`);
    parent.splice(index, mode === 'replace' ? 1 : 0, structuredClone(value));
  } else if (isObject(parent)) parent[last] = structuredClone(value);
  else throw new PatchError(`doc is missing path: "${pointer}"`);
  return document;
}

function take(document: Json, pointer: string): Json {
  const path = tokens(pointer);
  const last = path.pop();
  read(document, pointer);
  const parent = read(document, path.length ? `/${path.map((token) => token.replaceAll('~', '~0').replaceAll('/', '~1')).join('/')}` : '');
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObject(parent) && last !== undefined) delete parent[last];
  return document;
}
