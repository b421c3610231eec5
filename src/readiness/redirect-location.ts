/**
 * Resolves a redirect's Location header against the URL that was asked, as Go's client does (net/http client.go:
 * `req.URL.Parse(loc)`), and refuses what Go's url.Parse refuses: a host or port that does not parse, a control
 * character, a `%` not followed by two hex digits outside the query. Returns the reason when refused: Go's client then
 * ends with "failed to parse Location header", which the kubelet counts as a failed probe, not a crash.
 */
export function resolveLocation(header: string, base: URL): URL | string {
  // Node gives header bytes as latin1 text; Go reads them as UTF-8 bytes. Same bytes, same URL.
  const location = Buffer.from(header, 'latin1').toString('utf8');
  const refused = (why: string) => `failed to parse Location header ${quote(location)}: ${why}`;
  if (hasControlCharacter(location)) return refused('invalid control character in URL');
  const badEscape = /%(?![0-9a-fA-F]{2}).{0,2}/.exec(outsideQuery(location));
  if (badEscape) return refused(`invalid URL escape ${JSON.stringify(badEscape[0])}`);
  return URL.parse(location, base) ?? refused('invalid URL');
}

/** Bytes below 0x20 and 0x7f, which Go's url.Parse refuses anywhere (Node lets a tab through in a header). */
function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Go leaves the query as it is (RawQuery) and checks the escapes everywhere else, the fragment included. */
function outsideQuery(location: string): string {
  const hash = location.indexOf('#');
  const beforeHash = hash === -1 ? location : location.slice(0, hash);
  const question = beforeHash.indexOf('?');
  return (question === -1 ? beforeHash : beforeHash.slice(0, question)) + (hash === -1 ? '' : location.slice(hash));
}

/** The app's own text, quoted for one log line: at most 200 characters, any user:password@ masked. */
function quote(location: string): string {
  const masked = location.replace(/^([a-z][a-z0-9+.-]*:)?\/\/[^/?#]*@/i, (_, scheme: string | undefined) => `${scheme ?? ''}//***@`);
  return JSON.stringify(masked.length > 200 ? `${masked.slice(0, 200)}...` : masked);
}
