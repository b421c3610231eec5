/**
 * Paths to verbs (docs: api-concepts, "Standard API terminology"):
 *   /api/v1/<resource>                                         list, watch across namespaces
 *   /api/v1/namespaces/<ns>/<resource>[/<name>[/status]]       list, watch, create | get, update, patch, delete
 *   /apis/<group>/v1/[namespaces/<ns>/]<resource>[/<name>]     the same for a group (coordination.k8s.io leases)
 *   /api/v1/namespaces[/<name>]                                namespaces themselves
 * plus discovery; /openapi/v2 and /openapi/v3 are 404 (kubectl's get, patch, wait and watch work without them).
 * Authorization is per namespace: a namespaced resource in a forbidden namespace is 403, and so is the same resource
 * across all namespaces while any namespace is forbidden (RBAC has no "every namespace but one").
 */
import type { ServerResponse } from 'node:http';
import { discovery } from './discovery.ts';
import { deleteObject } from './deletion.ts';
import type { Lister } from './list.ts';
import { PODS, RESOURCES, type KubeObject, type ResourceType } from './resources.ts';
import { sendJson, type ApiRequest, type Handler } from './server.ts';
import { failure, forbidden, KubeError, methodNotAllowed, notFound, notFoundPath, unsupportedMediaType } from './status.ts';
import type { KubeStore } from './store.ts';
import type { WatchHub } from './watch.ts';
import { parseBody, type Target, type Writer } from './writes.ts';

export interface RouterParts {
  store: KubeStore;
  lister: Lister;
  writer: Writer;
  watches: WatchHub;
  forbiddenNamespaces: Set<string>;
  serverAddress: () => string;
  minorVersion: number;
  /** A pod was marked for deletion and waits for the kubelet's final delete. */
  onTerminating: (namespace: string, name: string) => void;
}

const PATCH_TYPES = new Set(['application/json-patch+json', 'application/merge-patch+json', 'application/strategic-merge-patch+json']);

interface Route {
  type: ResourceType;
  namespace: string | undefined;
  name: string | undefined;
  subresource: string | undefined;
}

function resolve(path: string): Route | undefined {
  const match = /^\/(?:api\/v1|apis\/([^/]+)\/v1)\/(.+)$/.exec(path);
  if (!match?.[2]) return undefined;
  const group = match[1] ?? '';
  let parts = match[2].split('/').map(decodeURIComponent);
  let namespace: string | undefined;
  if (parts[0] === 'namespaces' && parts.length >= 3 && !(parts.length === 3 && parts[2] === 'status')) {
    namespace = parts[1];
    parts = parts.slice(2);
  }
  const [resource, name, subresource, extra] = parts;
  const type = RESOURCES.find((candidate) => candidate.group === group && candidate.resource === resource);
  if (!type || extra !== undefined || (subresource !== undefined && !type.subresources.includes(subresource))) return undefined;
  if (type.namespaced && namespace === undefined && name !== undefined) return undefined;
  if (!type.namespaced && namespace !== undefined) return undefined;
  return { type, namespace, name, subresource };
}

function verbOf(method: string, route: Route, query: URLSearchParams): string {
  const watch = query.get('watch') === 'true' || query.get('watch') === '1';
  if (route.name === undefined) return method === 'GET' ? (watch ? 'watch' : 'list') : method === 'POST' ? 'create' : method === 'DELETE' ? 'deletecollection' : 'unsupported';
  return ({ GET: 'get', PUT: 'update', PATCH: 'patch', DELETE: 'delete' } as Record<string, string>)[method] ?? 'unsupported';
}

function authorize(parts: RouterParts, request: ApiRequest, verb: string, route: Route): void {
  if (!route.type.namespaced || parts.forbiddenNamespaces.size === 0) return;
  if (route.namespace === undefined || parts.forbiddenNamespaces.has(route.namespace)) throw forbidden(request.user, verb, route.type, route.namespace, route.name);
}

const mediaType = (header: string | undefined) => (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';

function managerOf(request: ApiRequest): string {
  return request.query.get('fieldManager') ?? (request.userAgent.split('/')[0] || 'unknown');
}

function deleted(route: Route, object: KubeObject) {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success', details: { name: object.metadata.name, ...(route.type.group ? { group: route.type.group } : {}), kind: route.type.resource, uid: object.metadata.uid } };
}

export function createRouter(parts: RouterParts): Handler {
  return (request: ApiRequest, response: ServerResponse) => {
    const { method, path, query } = request;
    const accept = request.headers.accept ?? '';
    if (accept && !/json|\*\/\*/.test(accept)) throw new KubeError(failure(406, 'NotAcceptable', 'only the following media types are accepted: application/json'));
    const document = method === 'GET' ? discovery(path, parts.serverAddress(), parts.minorVersion) : undefined;
    if (document) return sendJson(response, 200, document);
    const route = resolve(path);
    if (!route) throw notFoundPath();
    const verb = verbOf(method, route, query);
    authorize(parts, request, verb, route);
    if (!route.type.verbs.includes(verb)) throw methodNotAllowed(verb, route.type);
    const target: Target = { type: route.type, namespace: route.namespace, name: route.name ?? '', subresource: route.subresource };
    switch (verb) {
      case 'watch':
        return parts.watches.serve(route.type, route.namespace, query, response);
      case 'list':
        return sendJson(response, 200, parts.lister.list(route.type, route.namespace, query));
      case 'get': {
        const found = parts.store.get(route.type, route.namespace, target.name);
        if (!found) throw notFound(route.type, target.name);
        return sendJson(response, 200, found);
      }
      case 'create':
        return sendJson(response, 201, parts.writer.create(route.type, route.namespace, parseBody(request.body), managerOf(request)));
      case 'update': {
        const { object, created } = parts.writer.update(target, parseBody(request.body), managerOf(request));
        return sendJson(response, created ? 201 : 200, object);
      }
      case 'patch': {
        const type = mediaType(request.headers['content-type']);
        if (!PATCH_TYPES.has(type)) throw unsupportedMediaType(type);
        return sendJson(response, 200, parts.writer.patch(target, type, request.body, managerOf(request)));
      }
      case 'delete': {
        const result = deleteObject(parts.store, parts.writer, target, query, request.body);
        if (result.pending && route.type === PODS && result.object.metadata.deletionGracePeriodSeconds) parts.onTerminating(route.namespace ?? '', target.name);
        return sendJson(response, 200, result.pending || route.type.returnsDeletedObject ? result.object : deleted(route, result.object));
      }
      default:
        throw methodNotAllowed(verb, route.type);
    }
  };
}
