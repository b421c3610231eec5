/**
 * A stand-in for the Consul agent's service API, enforcing its documented contract. Sources
 * (hashicorp/consul): website/content/api-docs/agent/service.mdx (PUT /v1/agent/service/register, Name required, ID
 * defaults to Name, registering the same ID replaces the service; PUT /v1/agent/service/deregister/:service_id; token
 * in X-Consul-Token), agent/acl.go vetServiceUpdateWithAuthorizer (deregistering an unknown ID answers 404 "Unknown
 * service ID ...", although the docs say "no action is taken"), agent/structs/structs.go (Meta: keys match
 * ^[a-zA-Z0-9_-]+$, at most 64 pairs, keys up to 128 and values up to 512 characters, no "consul-" prefix). Errors
 * are plain text. With ACLs on, an unknown token is 403 "ACL not found".
 */
import { startStandIn, type StandIn, type StandInAnswer, type StandInRequest } from './stand-in.ts';

export interface ConsulStandIn extends StandIn {
  /** Service ID -> the registration as sent. */
  services: Map<string, Record<string, unknown>>;
}

const text = (status: number, message: string): StandInAnswer => ({ status, body: message, headers: { 'content-type': 'text/plain; charset=utf-8' } });

export async function startConsul(options: { token: string }): Promise<ConsulStandIn> {
  const services = new Map<string, Record<string, unknown>>();

  const route = (request: StandInRequest): StandInAnswer => {
    const register = request.path === '/v1/agent/service/register';
    const deregister = /^\/v1\/agent\/service\/deregister\/([^/]+)$/.exec(request.path);
    if (!register && !deregister) return text(404, `404 page not found`);
    if (request.method !== 'PUT') return text(405, `method ${request.method} not allowed`);
    const token = request.headers['x-consul-token'];
    if (token === undefined) return text(403, 'Permission denied: anonymous token lacks permission \'service:write\'');
    if (token !== options.token) return text(403, 'ACL not found');

    if (deregister) {
      const id = decodeURIComponent(deregister[1] ?? '');
      if (!services.delete(id)) return text(404, `Unknown service ID "${id}". Ensure that the service ID is passed, not the service name.`);
      return { status: 200 };
    }
    const body = request.json as Record<string, unknown> | undefined;
    if (!body || typeof body !== 'object') return text(400, 'Request decode failed: EOF');
    if (typeof body.Name !== 'string' || body.Name === '') return text(400, 'Invalid Service: Missing service name');
    const meta = (body.Meta ?? {}) as Record<string, unknown>;
    const problem = metaProblem(meta);
    if (problem) return text(400, `Invalid Service Meta: ${problem}`);
    if (body.Tags !== undefined && !(Array.isArray(body.Tags) && body.Tags.every((tag) => typeof tag === 'string'))) return text(400, 'Request decode failed: Tags must be strings');
    const id = typeof body.ID === 'string' && body.ID !== '' ? body.ID : body.Name;
    services.set(id, body);
    return { status: 200 };
  };

  const standIn = await startStandIn(route);
  return Object.assign(standIn, { services });
}

function metaProblem(meta: Record<string, unknown>): string | undefined {
  const entries = Object.entries(meta);
  if (entries.length > 64) return 'Node metadata cannot contain more than 64 key/value pairs';
  for (const [key, value] of entries) {
    if (!/^[a-zA-Z0-9_-]+$/.test(key)) return `Key contains invalid characters: ${key}`;
    if (key.length > 128) return `Key is too long (limit: 128 characters): ${key}`;
    if (key.startsWith('consul-')) return `Key prefix 'consul-' is reserved for internal use: ${key}`;
    if (value !== null && typeof value !== 'string') return `Value of ${key} must be a string`;
    if (typeof value === 'string' && value.length > 512) return `Value is too long (limit: 512 characters): ${key}`;
  }
  return undefined;
}
