import { BlockList, isIPv4 } from 'node:net';
import type { Cidr } from '../settings/cidr.ts';

/** Whether a peer address may call GET /deregister, and the address as it is named in the log. */
export interface SourceCheck {
  (address: string | undefined): { readonly trusted: boolean; readonly source: string };
}

/**
 * A check of the peer address against the trusted blocks. A server listening on :: sees an IPv4 peer as an
 * IPv4-mapped IPv6 address (::ffff:10.244.3.1): that is the IPv4 address, and is checked and logged as one.
 */
export function createSourceCheck(trusted: readonly Cidr[]): SourceCheck {
  const list = new BlockList();
  for (const cidr of trusted) list.addSubnet(cidr.address, cidr.prefix, cidr.family);
  return (address) => {
    if (address === undefined) return { trusted: false, source: 'an unknown address' };
    const mapped = address.toLowerCase().startsWith('::ffff:') ? address.slice(7) : undefined;
    const source = mapped !== undefined && isIPv4(mapped) ? mapped : address;
    return { trusted: list.check(source, isIPv4(source) ? 'ipv4' : 'ipv6'), source };
  };
}
