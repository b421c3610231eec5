import { isIP } from 'node:net';
import { ConfigError } from '../../errors.ts';
import type { CmdbRecord } from '../../pod/record.ts';
import { settingName } from '../../settings/option.ts';
import type { NetboxSettings } from './settings.ts';

/**
 * The custom field that ties a NetBox IP address to one pod incarnation. It must exist in NetBox first (type Text,
 * object type IPAM > IP Address): NetBox never creates custom fields on the fly.
 */
export const UID_FIELD = 'k8s_pod_uid';

/** An IP address as NetBox's IPAddressSerializer shows it (netbox/ipam/api/serializers_/ip.py): the parts read here. */
export interface NetboxIp {
  id: number;
  /** With its mask, e.g. 10.244.3.17/32. */
  address: string;
  /** Nested VRF (brief fields id, name, rd, ...; netbox/ipam/api/serializers_/vrfs.py), null for the global table. */
  vrf: { id?: number; name?: string } | null;
  /** Every custom field of the model, null when unset (netbox/extras/api/customfields.py, to_representation). */
  custom_fields?: Record<string, unknown>;
}

/** One pod IP as NetBox stores it: the host in canonical form, and the address with a host mask. */
export interface PodAddress {
  host: string;
  address: string;
}

/** The pod's addresses (POD_IPS, else POD_IP), each once; none at all is fine for deregister (it looks up by UID). */
export function podAddresses(record: CmdbRecord): PodAddress[] {
  const listed = record.pod.ips.length > 0 ? record.pod.ips : record.pod.ip ? [record.pod.ip] : [];
  const addresses = new Map<string, PodAddress>();
  for (const text of listed) {
    const host = canonicalHost(text);
    if (!host || text.includes('/')) {
      throw new ConfigError(`POD_IPS/POD_IP holds ${JSON.stringify(text)}, which is not an IP address: fill them from fieldRef status.podIPs and status.podIP`);
    }
    addresses.set(host, { host, address: `${host}/${isIP(host) === 6 ? 128 : 32}` });
  }
  return [...addresses.values()];
}

/** register needs an address: an IPAM record is one. */
export function requiredAddresses(record: CmdbRecord): PodAddress[] {
  const addresses = podAddresses(record);
  if (addresses.length === 0) {
    throw new ConfigError('POD_IP is not set: add env POD_IP with fieldRef status.podIP (and POD_IPS with status.podIPs for dual-stack); a NetBox IP address record needs the address');
  }
  return addresses;
}

/**
 * The host part of an address in one spelling, so that the pod's `fd00:0::17` and NetBox's `fd00::17/128` compare
 * equal (netaddr and the WHATWG URL parser both print IPv6 compressed and lowercase, but we do not rely on that).
 */
export function canonicalHost(text: string): string | undefined {
  const host = text.trim().split('/')[0] ?? '';
  const family = isIP(host);
  if (family === 4) return host;
  if (family !== 6) return undefined;
  try {
    return new URL(`http://[${host}]/`).hostname.slice(1, -1);
  } catch {
    return undefined; // a zone index (fe80::1%eth0): never a pod IP
  }
}

/** Whose record this is: the pod UID in the custom field, or undefined when it has none (made by hand). */
export function ownerOf(ip: NetboxIp): string | undefined {
  const value = ip.custom_fields?.[UID_FIELD];
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

/** Whether the record sits in the table the agent writes to: the VRF of --netbox-vrf, else the global table. */
export function inTable(ip: NetboxIp, vrf: string | undefined): boolean {
  return vrf ? ip.vrf?.name === vrf : !ip.vrf;
}

export function tableName(vrf: string | undefined): string {
  return vrf ? `VRF ${vrf}` : 'the global table';
}

/**
 * The body of a create or update. Tenant, VRF and tags are sent only when set, so an update leaves what someone set
 * by hand alone. Custom fields: NetBox merges a PATCH's custom_fields into the stored ones (customfields.py).
 */
export function ipBody(record: CmdbRecord, settings: NetboxSettings, address: string): Record<string, unknown> {
  const { tenant, tags, vrf } = settings;
  return {
    address,
    status: 'active',
    dns_name: dnsNameOf(record.pod.name, record.namespace),
    description: descriptionOf(record),
    ...(tenant ? { tenant: { slug: tenant } } : {}),
    ...(vrf ? { vrf: { name: vrf } } : {}),
    ...(tags.length > 0 ? { tags: tags.map((slug) => ({ slug })) } : {}),
    custom_fields: { ...record.fields, [UID_FIELD]: record.pod.uid },
  };
}

const DNS_NAME_MAX = 253;

/**
 * `<pod>.<namespace>`, lowercase. NetBox takes dot-separated labels of letters, digits, '-' and '_' (DNSValidator in
 * netbox/ipam/validators.py), stores dns_name lowercased (IPAddress.save in netbox/ipam/models/ip.py), at most 255
 * characters. A pod name is an RFC 1123 subdomain and a namespace an RFC 1123 label, so this is valid as it is and
 * unique in the cluster at any moment; it is not a record cluster DNS serves (that names pods by IP or through a
 * headless Service), it is the name people search NetBox by. Cleaned anyway: POD_NAME may have fallen back to the
 * hostname, which spec.hostname can set to anything.
 */
export function dnsNameOf(podName: string, namespace: string): string {
  const labels = (text: string) =>
    text.toLowerCase().split('.').map((label) => label.replace(/[^a-z0-9-]+/g, '-').slice(0, 63).replace(/^-+|-+$/g, '')).filter(Boolean);
  const tail = labels(namespace).join('.');
  const head = labels(podName).join('.').slice(0, Math.max(1, DNS_NAME_MAX - tail.length - 1)).replace(/[.-]+$/, '');
  return [head, tail].filter(Boolean).join('.');
}

const DESCRIPTION_MAX = 200; // PrimaryModel.description, max_length 200 (netbox/netbox/models/__init__.py)

/** e.g. "k8s prod-eu-1/shop/web-0 container app, app shop". */
export function descriptionOf(record: CmdbRecord): string {
  const text = `k8s ${record.cluster}/${record.namespace}/${record.pod.name} container ${record.container}${record.app ? `, app ${record.app}` : ''}`;
  return text.length > DESCRIPTION_MAX ? `${text.slice(0, DESCRIPTION_MAX - 1)}…` : text;
}

// NetBox custom field names (netbox/extras/models/customfields.py): letters, digits and '_', no '__', at most 50.
const CUSTOM_FIELD_NAME = /^(?!.*__)[A-Za-z0-9_]{1,50}$/;

/** --field keys become NetBox custom fields: refuse names NetBox cannot have, and the one the agent owns. */
export function checkFieldNames(keys: Iterable<string>): void {
  for (const key of keys) {
    if (key === UID_FIELD) throw new ConfigError(`${settingName('field')} ${UID_FIELD} is set by cmdb-hook itself (the pod UID); remove it`);
    if (!CUSTOM_FIELD_NAME.test(key)) {
      throw new ConfigError(`${settingName('field')} ${JSON.stringify(key)} cannot be a NetBox custom field name (letters, digits and '_', no '__', at most 50); rename it`);
    }
  }
}
