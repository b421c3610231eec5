import { isIPv4, isIPv6 } from 'node:net';
import { ConfigError } from '../errors.ts';
import { settingName } from './option.ts';

/** A URL setting (--cmdb-url, --ready-url): http or https, no credentials, a real port, nothing the parser drops. */
export function parseHttpUrl(flag: string, raw: string): URL {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    // Shown to help find the typo, but never with what may be a password in it.
    throw new ConfigError(`${settingName(flag)} is not a URL: ${JSON.stringify(raw.replace(/\/\/[^/?#]*@/, '//***@'))}; write it like http://127.0.0.1:8080/path`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ConfigError(`${settingName(flag)} must be an http or https URL, not ${url.protocol}`);
  }
  if (url.username || url.password) {
    // Hook commands end up in kubelet events; credentials belong in mounted files.
    const instead = flag === 'cmdb-url' ? 'put the token in a file and use --cmdb-token-file' : 'the check sends none; remove them';
    throw new ConfigError(`${settingName(flag)} must not hold credentials; ${instead}`);
  }
  // The URL parser silently removes tabs and newlines anywhere in the text: what it reads would not be what was written.
  if (/[\s\p{Cc}]/u.test(raw)) throw new ConfigError(`${settingName(flag)} holds a space or control character; remove it`);
  // Port 0 is nobody's port: every connection fails and a hook would wait its whole timeout for nothing.
  if (url.port === '0') throw new ConfigError(`${settingName(flag)} ${url.host} has port 0; give the port it listens on`);
  return url;
}

/**
 * --cmdb-url is the base that record ids are appended to (`<base>/<id>`), so anything that makes that URL mean
 * another resource is refused. `.../instances#` and `.../instances?` look like the collection to the URL parser (an
 * empty fragment or query is not even kept in `hash`/`search`) and turned `DELETE <base>/<id>` into a DELETE of the
 * collection itself (or of `?/<id>`). Dot segments, including `%2e` and Tomcat's `..;`, and encoded `/`, `\`, `?`, `#`
 * move the id elsewhere on servers or proxies that resolve or decode them.
 */
export function parseCmdbUrl(raw: string): URL {
  const url = parseHttpUrl('cmdb-url', raw);
  // Messages show the path as written, never a query: it may hold a key.
  const refuse = (shown: string, why: string) =>
    new ConfigError(`${settingName('cmdb-url')} ${shown} ${why}; give the plain base URL that record ids are appended to, e.g. https://cmdb.example.com/api/v1/instances`);
  if (raw.includes('?') || raw.includes('#')) throw refuse(url.origin + url.pathname, 'carries a query or fragment (an empty ? or # too)');
  const path = raw.replace(/^[a-z][a-z\d+.-]*:[/\\]*[^/\\]*/i, '');
  if (/[/\\](?:\.|%2e){1,2}(?=[/\\;]|$)/i.test(path)) throw refuse(JSON.stringify(raw), 'holds a dot segment (/. or /..), which servers resolve differently');
  if (/%(?:2f|5c|3f|23|[01][\da-f]|7f)/i.test(url.pathname)) {
    throw refuse(JSON.stringify(raw), 'holds an encoded /, \\, ?, # or control character, which servers decode differently');
  }
  return url;
}

/** --ready-tcp: `port` (both loopbacks) or `host:port`, with a host that can be looked up or an IP address. */
export function parseReadyTcp(raw: string): { hosts: string[]; port: number } {
  const refuse = () => new ConfigError(`${settingName('ready-tcp')} ${JSON.stringify(raw)} is not a port or host:port; write it like 8080, 127.0.0.1:8080 or [::1]:8080`);
  const match = /^(?:\[([^\]]*)\]:|([^:[\]]+):)?(\d{1,5})$/.exec(raw.trim());
  const port = Number(match?.[3]);
  if (!match || port < 1 || port > 65535) throw refuse();
  const [, bracketed, plain] = match;
  if (bracketed !== undefined && !isIPv6(bracketed)) throw refuse();
  if (plain !== undefined && !(isIPv4(plain) || (HOST_NAME.test(plain) && !/^[\d.]+$/.test(plain)))) throw refuse();
  const host = bracketed ?? plain;
  // A port alone means "this container": try both loopbacks, since apps listen on one family only.
  return { hosts: host ? [host] : ['127.0.0.1', '::1'], port };
}

/** A DNS name (RFC 1123 labels of letters, digits and '-'), optionally ending in the root's '.'. */
const HOST_NAME = /^(?=.{1,254}$)[a-z\d](?:[a-z\d-]{0,61}[a-z\d])?(?:\.[a-z\d](?:[a-z\d-]{0,61}[a-z\d])?)*\.?$/i;
