import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '../errors.ts';

/** An address block: its base address, prefix length and family (the words node:net's BlockList takes). */
export interface Cidr {
  readonly address: string;
  readonly prefix: number;
  readonly family: 'ipv4' | 'ipv6';
}

/**
 * `10.244.3.1/32`, `10.244.3.0/24`, `fd00::/64`, or an address alone (one address: /32 or /128). `name` is how a
 * message names where the value came from (a flag and its env var, or an env var of the Downward API).
 */
export function parseCidr(name: string, raw: string): Cidr {
  const text = raw.trim();
  const [address = '', bits, ...rest] = text.split('/');
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) ? 'ipv6' : undefined;
  const max = family === 'ipv4' ? 32 : 128;
  const prefix = bits === undefined ? max : /^\d{1,3}$/.test(bits) ? Number(bits) : Number.NaN;
  if (family === undefined || rest.length > 0 || !(prefix >= 0 && prefix <= max)) {
    throw new ConfigError(`${name} ${JSON.stringify(raw)} is not an IP address or CIDR; write it like 10.244.3.1, 10.244.3.0/24, fd00::1/128 or pod-subnet/24+1`);
  }
  return { address, prefix, family };
}

export const formatCidr = (cidr: Cidr) => `${cidr.address}/${cidr.prefix}`;

/**
 * The address `offset` places into the block of `prefix` bits that holds `address`: the block's gateway for
 * `offset` 1 (Flannel's cni0, Antrea's antrea-gw0), OVN-Kubernetes' management port for 2. Undefined when the offset
 * does not fit in the block.
 */
export function addressInBlock(address: string, prefix: number, offset: number): string | undefined {
  const v4 = isIPv4(address);
  const bits = v4 ? 32 : 128;
  if (!(prefix >= 0 && prefix <= bits) || BigInt(offset) >= 1n << BigInt(bits - prefix)) return undefined;
  const value = v4 ? address.split('.').reduce((sum, part) => (sum << 8n) + BigInt(part), 0n) : ipv6Value(address);
  const block = (value >> BigInt(bits - prefix)) << BigInt(bits - prefix);
  const chosen = block + BigInt(offset);
  if (v4) return [24n, 16n, 8n, 0n].map((shift) => String((chosen >> shift) & 255n)).join('.');
  const groups = Array.from({ length: 8 }, (_, index) => ((chosen >> BigInt(112 - 16 * index)) & 0xffffn).toString(16));
  return groups.join(':').replace(/(^|:)0(:0)+(:|$)/, '::');
}

function ipv6Value(address: string): bigint {
  const [head = '', tail] = address.split('::');
  const parts = (text: string) => (text === '' ? [] : text.split(':'));
  const groups = tail === undefined ? parts(head) : [...parts(head), ...Array<string>(8 - parts(head).length - parts(tail).length).fill('0'), ...parts(tail)];
  return groups.reduce((sum, group) => (sum << 16n) + BigInt(`0x${group}`), 0n);
}
