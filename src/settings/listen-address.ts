import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '../errors.ts';
import { settingName } from './option.ts';

/** Where the long-running modes' endpoints listen. `host` undefined: every interface, both families. */
export interface ListenAddress {
  readonly flag: string;
  readonly host: string | undefined;
  readonly port: number;
}

/**
 * A `--listen` value the way Go's net.Listen and Prometheus exporters write it: `:9102` (every interface),
 * `0.0.0.0:9102`, `127.0.0.1:9102`, `[::]:9102`, `[::1]:9901`. The host is an IP literal or empty, never a name: a name
 * would be looked up once at start and could bind somewhere the pod's probes do not reach. Port 0 is refused too:
 * the kernel would pick a port that no probe or scrape config names.
 */
export function parseListenAddress(flag: string, raw: string): ListenAddress {
  const refuse = (why: string) =>
    new ConfigError(`${settingName(flag)} ${JSON.stringify(raw)} ${why}; write it like :9102, 127.0.0.1:9102 or [::1]:9102`);
  const match = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(raw);
  if (!match) {
    if (/^\d+$/.test(raw)) throw refuse('has no colon before the port');
    if (!raw.startsWith('[') && (raw.match(/:/g) ?? []).length > 1) throw refuse('is an IPv6 address without [brackets]');
    throw refuse('is not host:port');
  }
  const [, bracketed, plain, digits = ''] = match;
  const port = Number(digits);
  if (port === 0) throw refuse('has port 0; give the port that probes and scrapes will use');
  if (port > 65535) throw refuse('has a port above 65535');
  if (bracketed !== undefined && !isIPv6(bracketed)) throw refuse('holds no IPv6 address between the brackets');
  if (plain !== undefined && plain !== '' && !isIPv4(plain)) throw refuse('names a host that is not an IP address (names are not looked up)');
  const host = bracketed ?? (plain === '' ? undefined : plain);
  return { flag, host, port };
}

/** The address as a URL authority, for log lines and messages. */
export function formatListenAddress(address: { readonly host: string | undefined; readonly port: number }): string {
  if (address.host === undefined) return `:${address.port}`;
  return isIPv6(address.host) ? `[${address.host}]:${address.port}` : `${address.host}:${address.port}`;
}
