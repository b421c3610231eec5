import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '../errors.ts';
import { settingName } from './option.ts';

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
    throw new ConfigError(`${name} ${JSON.stringify(raw)} is not an IP address or CIDR; write it like 10.244.3.1, 10.244.3.0/24 or fd00::1/128`);
  }
  return { address, prefix, family };
}

/** A repeatable setting of CIDRs, each checked and named by its flag. */
export function parseCidrSetting(flag: string, values: readonly string[]): Cidr[] {
  return values.map((value) => parseCidr(settingName(flag), value));
}

export const formatCidr = (cidr: Cidr) => `${cidr.address}/${cidr.prefix}`;
