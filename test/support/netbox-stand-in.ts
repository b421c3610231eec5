/**
 * A stand-in for NetBox's IP address API that enforces its documented contract, each rule with
 * the NetBox source it comes from (netbox-community/netbox). Only what cmdb-hook touches: /api/ipam/ip-addresses/.
 *
 *   GET    /api/ipam/ip-addresses/?address=&vrf_id=&cf_<name>=&cf_<name>__isw=&description__isw=&ordering=&limit=&offset=
 *                                         -> 200 {count, next, previous, results}; any other parameter is ignored
 *   POST   /api/ipam/ip-addresses/        -> 201 | 400 field map
 *   PATCH  /api/ipam/ip-addresses/{id}/   -> 200 | 400 | 404
 *   DELETE /api/ipam/ip-addresses/{id}/   -> 204 (no body) | 404
 *   a path without its trailing slash     -> 301 to the slash (Django's APPEND_SLASH): never followed by a write
 *   no or unknown Authorization           -> 403 {"detail": ...}
 */
import { isIP } from 'node:net';
import { startStandIn, type StandIn, type StandInAnswer, type StandInRequest } from './stand-in.ts';

export interface NetboxStandInOptions {
  /** v1 tokens, sent as `Token <token>`. */
  v1Tokens?: string[];
  /** v2 tokens, whole (`nbt_<key>.<secret>`), sent as `Bearer <token>`. */
  v2Tokens?: string[];
  /** Custom fields defined for IPAM > IP Address; default [k8s_pod_uid]. */
  customFields?: string[];
  /** Custom fields whose filter logic is Disabled: no cf_ filter (netbox/netbox/filtersets.py). */
  unfilterable?: string[];
  tags?: string[];
  tenants?: string[];
  vrfs?: { name: string; enforceUnique?: boolean }[];
  /** A release without lookups on custom field filters (cf_<name>__isw): the parameter is ignored like any unknown one. */
  noCustomFieldLookups?: boolean;
  /** A broken paginator (or a proxy that drops the query's offset): every page is the first. */
  offsetIgnored?: boolean;
  /** ENFORCE_GLOBAL_UNIQUE: true by default in current releases, false in older ones (netbox/netbox/config/parameters.py). */
  enforceGlobalUnique?: boolean;
}

/** An IP address as stored: related objects by slug or name, custom fields as custom_field_data. */
export interface StoredIp {
  id: number;
  address: string;
  vrf: string | null;
  tenant: string | null;
  status: string;
  dns_name: string;
  description: string;
  tags: string[];
  custom_field_data: Record<string, unknown>;
}

export interface NetboxStandIn extends StandIn {
  ips: Map<number, StoredIp>;
  /** Puts an IP address in as if someone had made it; custom fields not given are null. */
  seed(ip: Partial<StoredIp> & { address: string }): StoredIp;
  /** Called before each request is routed (to make something happen between the agent's requests). */
  before: ((request: StandInRequest) => void) | undefined;
  /** The requests that change something. */
  writes(): StandInRequest[];
}

const ROOT = '/api/ipam/ip-addresses/';
// IPAddressStatusChoices (netbox/ipam/choices.py).
const STATUSES = ['active', 'reserved', 'deprecated', 'dhcp', 'slaac'];
// DNSValidator (netbox/ipam/validators.py).
const DNS_NAME = /^([0-9A-Za-z_-]+|\*)(\.[0-9A-Za-z_-]+)*\.?$/;

export async function startNetboxStandIn(options: NetboxStandInOptions = {}): Promise<NetboxStandIn> {
  const ips = new Map<number, StoredIp>();
  const customFields = options.customFields ?? ['k8s_pod_uid'];
  const vrfs = options.vrfs ?? [];
  let nextId = 1;
  let host = '';

  const seed = (ip: Partial<StoredIp> & { address: string }): StoredIp => {
    const stored: StoredIp = { id: nextId++, vrf: null, tenant: null, status: 'active', dns_name: '', description: '', tags: [], ...ip, custom_field_data: { ...nullFields(customFields), ...ip.custom_field_data } };
    ips.set(stored.id, stored);
    return stored;
  };

  const serialize = (ip: StoredIp) => ({
    id: ip.id,
    url: `http://${host}${ROOT}${ip.id}/`,
    display: ip.address,
    family: { value: ip.address.includes(':') ? 6 : 4, label: ip.address.includes(':') ? 'IPv6' : 'IPv4' },
    address: ip.address,
    // Brief nested serializers (netbox/ipam/api/serializers_/vrfs.py, tenancy's TenantSerializer, extras' TagSerializer).
    vrf: ip.vrf === null ? null : { id: vrfs.findIndex((vrf) => vrf.name === ip.vrf) + 1, url: '', display: ip.vrf, name: ip.vrf, rd: null, description: '' },
    tenant: ip.tenant === null ? null : { id: 1, url: '', display: ip.tenant, name: ip.tenant, slug: ip.tenant, description: '' },
    status: { value: ip.status, label: ip.status[0]?.toUpperCase() + ip.status.slice(1) },
    role: null,
    assigned_object_type: null,
    assigned_object_id: null,
    assigned_object: null,
    nat_inside: null,
    nat_outside: [],
    dns_name: ip.dns_name,
    description: ip.description,
    comments: '',
    tags: ip.tags.map((slug, at) => ({ id: at + 1, url: '', display: slug, name: slug, slug, color: '9e9e9e' })),
    // Every custom field of the model, null when unset (netbox/extras/api/customfields.py, to_representation).
    custom_fields: Object.fromEntries(customFields.map((name) => [name, ip.custom_field_data[name] ?? null])),
    created: '2026-01-01T00:00:00Z',
    last_updated: '2026-01-01T00:00:00Z',
  });

  /** Field validation of IPAddressSerializer (netbox/ipam/api/serializers_/ip.py): the 400 field map. */
  const validate = (body: Record<string, unknown>, existing: StoredIp | undefined): { errors: Record<string, unknown>; changes: Partial<StoredIp> } => {
    const errors: Record<string, unknown> = {};
    const changes: Partial<StoredIp> = {};
    if (body.address === undefined) {
      if (!existing) errors.address = ['This field is required.'];
    } else {
      const address = normalizeAddress(body.address);
      if (address) changes.address = address;
      else errors.address = [`Invalid IP address format: ${shown(body.address)}`];
    }
    if (body.status !== undefined) {
      if (typeof body.status === 'string' && STATUSES.includes(body.status)) changes.status = body.status;
      else errors.status = [`"${shown(body.status)}" is not a valid choice.`];
    }
    if (body.dns_name !== undefined) {
      const name = typeof body.dns_name === 'string' ? body.dns_name : '';
      if (typeof body.dns_name !== 'string') errors.dns_name = ['Not a valid string.'];
      else if (name.length > 255) errors.dns_name = ['Ensure this field has no more than 255 characters.'];
      else if (name && !DNS_NAME.test(name)) errors.dns_name = ['Only alphanumeric characters, asterisks, hyphens, periods, and underscores are allowed in DNS names'];
      // IPAddress.save() lowercases it (netbox/ipam/models/ip.py).
      else changes.dns_name = name.toLowerCase();
    }
    if (body.description !== undefined) {
      // PrimaryModel.description, max_length 200 (netbox/netbox/models/__init__.py).
      if (typeof body.description !== 'string') errors.description = ['Not a valid string.'];
      else if (body.description.length > 200) errors.description = ['Ensure this field has no more than 200 characters.'];
      else changes.description = body.description;
    }
    // Related objects by attributes: get_related_object_by_attrs (netbox/utilities/api.py).
    const related = (field: 'tenant' | 'vrf', key: string, known: string[]) => {
      const value = body[field];
      if (value === undefined) return;
      if (value === null) return void (changes[field] = null);
      const wanted = (value as Record<string, unknown>)[key];
      const matches = known.filter((name) => name === wanted);
      if (matches.length === 1) changes[field] = String(wanted);
      else errors[field] = [`${matches.length === 0 ? 'Related object not found' : 'Multiple objects match'} using the provided attributes: ${pythonDict(value)}`];
    };
    related('tenant', 'slug', options.tenants ?? []);
    related('vrf', 'name', vrfs.map((vrf) => vrf.name));
    if (body.tags !== undefined) {
      // A nested list: DRF's ListSerializer reports one entry per tag, {} for the good ones.
      const tags = Array.isArray(body.tags) ? (body.tags as Record<string, unknown>[]) : [];
      const tagErrors = tags.map((tag) => ((options.tags ?? []).includes(String(tag.slug)) ? {} : [`Related object not found using the provided attributes: ${pythonDict(tag)}`]));
      if (tagErrors.some((entry) => Array.isArray(entry))) errors.tags = tagErrors;
      else changes.tags = tags.map((tag) => String(tag.slug));
    }
    if (body.custom_fields !== undefined) {
      const given = body.custom_fields as Record<string, unknown>;
      // Unknown names are refused, never created (netbox/extras/api/customfields.py, to_internal_value).
      const unknown = Object.keys(given).filter((name) => !customFields.includes(name)).sort();
      if (unknown.length > 0) errors.custom_fields = Object.fromEntries(unknown.map((name) => [name, `Custom field '${name}' does not exist for this object type.`]));
      // A PATCH starts from the stored custom field data.
      else changes.custom_field_data = { ...(existing?.custom_field_data ?? nullFields(customFields)), ...given };
    }
    return { errors, changes };
  };

  /** Model validation (IPAddress.clean in netbox/ipam/models/ip.py), after the fields are valid. */
  const duplicateOf = (candidate: StoredIp): string | undefined => {
    const enforce = candidate.vrf === null ? (options.enforceGlobalUnique ?? true) : Boolean(vrfs.find((vrf) => vrf.name === candidate.vrf)?.enforceUnique);
    if (!enforce) return undefined;
    const same = [...ips.values()].find((ip) => ip.id !== candidate.id && ip.vrf === candidate.vrf && hostOf(ip.address) === hostOf(candidate.address));
    return same ? `Duplicate IP address found in ${candidate.vrf === null ? 'global table' : `VRF ${candidate.vrf}`}: ${same.address}` : undefined;
  };

  const list = (request: StandInRequest): StandInAnswer => {
    let found = [...ips.values()];
    const query = request.query;
    // address: host with any mask, or exactly with a mask; unparsable values are skipped (filter_address, NetIn).
    const addresses = query.getAll('address').filter((value) => isIP(value.split('/')[0] ?? '') !== 0);
    if (query.has('address')) found = addresses.length === 0 ? [] : found.filter((ip) => addresses.some((value) => (value.includes('/') ? normalizeAddress(value) === ip.address : hostOf(value) === hostOf(ip.address))));
    const vrfIds = query.getAll('vrf_id');
    if (vrfIds.length > 0) found = found.filter((ip) => vrfIds.some((id) => (id === 'null' ? ip.vrf === null : vrfs[Number(id) - 1]?.name === ip.vrf)));
    for (const name of customFields) {
      // cf_<name> only exists for fields whose filter logic is not Disabled; an unknown parameter is ignored.
      const wanted = query.get(`cf_${name}`);
      if (wanted !== null && !(options.unfilterable ?? []).includes(name)) found = found.filter((ip) => ip.custom_field_data[name] === wanted);
      // Lookups on custom field filters (get_additional_lookups in netbox/netbox/filtersets.py): isw is istartswith.
      const prefix = query.get(`cf_${name}__isw`);
      if (prefix !== null && !options.noCustomFieldLookups && !(options.unfilterable ?? []).includes(name)) {
        found = found.filter((ip) => {
          const value = ip.custom_field_data[name];
          return typeof value === 'string' && value.toLowerCase().startsWith(prefix.toLowerCase());
        });
      }
    }
    // description is among IPAddressFilterSet's Meta.fields, so it has the char lookups (netbox/ipam/filtersets.py).
    const described = query.get('description__isw');
    if (described !== null) found = found.filter((ip) => ip.description.toLowerCase().startsWith(described.toLowerCase()));
    // ordering (DRF's OrderingFilter): by id. Without it NetBox orders by address (IPAddress.Meta), which this
    // stand-in does not model: it keeps the order of creation.
    const ordering = query.get('ordering');
    if (ordering === 'id' || ordering === '-id') found.sort((a, b) => (a.id - b.id) * (ordering === 'id' ? 1 : -1));
    // Paging (docs/integrations/rest-api.md): PAGINATE_COUNT 50 by default, MAX_PAGE_SIZE 1000.
    const limit = Math.min(Number(query.get('limit') ?? 50) || 50, 1000);
    const offset = options.offsetIgnored ? 0 : Number(query.get('offset') ?? 0) || 0;
    const page = (at: number) => {
      const params = new URLSearchParams(query);
      params.set('limit', String(limit));
      params.set('offset', String(at));
      return `http://${host}${ROOT}?${params.toString()}`;
    };
    return {
      status: 200,
      body: {
        count: found.length,
        next: offset + limit < found.length ? page(offset + limit) : null,
        previous: offset > 0 ? page(Math.max(0, offset - limit)) : null,
        results: found.slice(offset, offset + limit).map(serialize),
      },
    };
  };

  const write = (request: StandInRequest, existing: StoredIp | undefined): StandInAnswer => {
    if (!(request.headers['content-type'] ?? '').includes('application/json')) {
      return { status: 415, body: { detail: `Unsupported media type "${request.headers['content-type'] ?? ''}" in request.` } };
    }
    if (typeof request.json !== 'object' || request.json === null || Array.isArray(request.json)) {
      return { status: 400, body: { non_field_errors: ['Invalid data. Expected a dictionary, but got list.'] } };
    }
    const { errors, changes } = validate(request.json as Record<string, unknown>, existing);
    if (Object.keys(errors).length > 0) return { status: 400, body: errors };
    const candidate: StoredIp = existing ? { ...existing, ...changes } : { id: 0, vrf: null, tenant: null, status: 'active', dns_name: '', description: '', tags: [], custom_field_data: nullFields(customFields), ...changes, address: changes.address ?? '' };
    const duplicate = duplicateOf(candidate);
    if (duplicate) return { status: 400, body: { address: [duplicate] } };
    if (!existing) candidate.id = nextId++;
    ips.set(candidate.id, candidate);
    return { status: existing ? 200 : 201, body: serialize(candidate) };
  };

  const stub = { before: undefined as ((request: StandInRequest) => void) | undefined };
  const standIn = await startStandIn((request) => {
    stub.before?.(request);
    host = request.headers.host ?? '';
    // Django's CommonMiddleware (APPEND_SLASH) runs before the API view: a path without its slash is redirected,
    // which a client must not follow with a write (docs/integrations/rest-api.md: "the trailing slash is required").
    if (/^\/api\/ipam\/ip-addresses(\/\d+)?$/.test(request.path)) return { status: 301, headers: { location: `${request.path}/` } };
    const denied = authenticate(request, options);
    if (denied) return denied;
    if (request.path === ROOT) {
      if (request.method === 'GET') return list(request);
      if (request.method === 'POST') return write(request, undefined);
      return { status: 405, body: { detail: `Method "${request.method}" not allowed.` } };
    }
    const id = /^\/api\/ipam\/ip-addresses\/(\d+)\/$/.exec(request.path)?.[1];
    if (id === undefined) return { status: 404, body: '<h1>Not Found</h1>', headers: { 'content-type': 'text/html' } };
    const existing = ips.get(Number(id));
    // DRF's Http404 answer (rest_framework/views.py exception_handler).
    if (!existing) return { status: 404, body: { detail: 'No IPAddress matches the given query.' } };
    if (request.method === 'GET') return { status: 200, body: serialize(existing) };
    if (request.method === 'PATCH') return write(request, existing);
    if (request.method === 'DELETE') {
      ips.delete(existing.id);
      return { status: 204 };
    }
    return { status: 405, body: { detail: `Method "${request.method}" not allowed.` } };
  });

  // Accessors, not Object.assign: assign would copy the hook's value once instead of the getter and setter.
  return Object.defineProperties(standIn as NetboxStandIn, {
    ips: { value: ips },
    seed: { value: seed },
    before: { get: () => stub.before, set: (hook: ((request: StandInRequest) => void) | undefined) => void (stub.before = hook) },
    writes: { value: () => standIn.requests.filter((request) => request.method !== 'GET') },
  });
}

/**
 * Token authentication (netbox/netbox/api/authentication.py; answers as in netbox/netbox/tests/test_authentication.py):
 * `Token <v1>` or `Bearer nbt_<key>.<secret>`; an unknown token is 403 "Invalid v1 token" / "Invalid v2 token"; no
 * credentials at all is 403 "Authentication credentials were not provided." (docs/integrations/rest-api.md).
 */
function authenticate(request: StandInRequest, options: NetboxStandInOptions): StandInAnswer | undefined {
  const [scheme, value, ...rest] = (request.headers.authorization ?? '').split(' ');
  if (scheme === 'Token' && value && rest.length === 0) return (options.v1Tokens ?? []).includes(value) ? undefined : { status: 403, body: { detail: 'Invalid v1 token' } };
  if (scheme === 'Bearer' && value && rest.length === 0) return (options.v2Tokens ?? []).includes(value) ? undefined : { status: 403, body: { detail: 'Invalid v2 token' } };
  return { status: 403, body: { detail: 'Authentication credentials were not provided.' } };
}

function shown(value: unknown): string {
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function nullFields(names: string[]): Record<string, unknown> {
  return Object.fromEntries(names.map((name) => [name, null]));
}

function hostOf(address: string): string {
  return normalizeAddress(address)?.split('/')[0] ?? address;
}

/** netaddr.IPNetwork: a host with an optional mask, printed compressed and lowercase. */
function normalizeAddress(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const [host = '', mask, ...rest] = value.split('/');
  const family = isIP(host);
  const bits = mask === undefined ? (family === 6 ? 128 : 32) : Number(mask);
  if (family === 0 || rest.length > 0 || !Number.isInteger(bits) || bits < 0 || bits > (family === 6 ? 128 : 32)) return undefined;
  return `${family === 6 ? new URL(`http://[${host}]/`).hostname.slice(1, -1) : host}/${bits}`;
}

/** Python's repr of a flat dict of strings, as NetBox puts it into messages: {'slug': 'team-a'}. */
function pythonDict(value: unknown): string {
  return `{${Object.entries(value as Record<string, unknown>).map(([key, item]) => `'${key}': '${String(item)}'`).join(', ')}}`;
}
