/**
 * Parses the kubelet's downwardAPI file for metadata.labels / metadata.annotations: one `key="value"` line per
 * entry, values quoted with Go's %q (kubernetes pkg/fieldpath FormatMap), no trailing newline. A failure names the
 * 1-based line that is not in that form, so the caller can point at it.
 */
export type ParseResult = { ok: true; map: Record<string, string> } | { ok: false; line: number; reason: string };

export function parseGoQuotedMap(text: string): ParseResult {
  const map: Record<string, string> = {};
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]?.replace(/\r$/, '') ?? '';
    if (line === '') continue;
    const at = line.indexOf('=');
    if (at <= 0) return { ok: false, line: index + 1, reason: 'no key="value"' };
    const value = unquoteGo(line.slice(at + 1));
    if (value === undefined) return { ok: false, line: index + 1, reason: 'the value is not a Go-quoted string' };
    map[line.slice(0, at)] = value;
  }
  return { ok: true, map };
}

const SIMPLE_ESCAPES: Record<string, number> = { a: 7, b: 8, f: 12, n: 10, r: 13, t: 9, v: 11, '\\': 92, '"': 34 };

/** Go's strconv.Unquote for a double-quoted literal. Works on bytes, since \xNN may spell out UTF-8 byte by byte. */
export function unquoteGo(quoted: string): string | undefined {
  if (quoted.length < 2 || !quoted.startsWith('"') || !quoted.endsWith('"')) return undefined;
  const body = quoted.slice(1, -1);
  const bytes: number[] = [];
  for (let i = 0; i < body.length; i++) {
    const char = body[i] ?? '';
    if (char === '"') return undefined;
    if (char !== '\\') {
      const codePoint = body.codePointAt(i) ?? 0;
      bytes.push(...Buffer.from(String.fromCodePoint(codePoint), 'utf8'));
      if (codePoint > 0xffff) i++;
      continue;
    }
    const kind = body[++i] ?? '';
    if (kind in SIMPLE_ESCAPES) {
      bytes.push(SIMPLE_ESCAPES[kind] ?? 0);
    } else if (kind === 'x' || kind === 'u' || kind === 'U') {
      const width = kind === 'x' ? 2 : kind === 'u' ? 4 : 8;
      const hex = body.slice(i + 1, i + 1 + width);
      if (!/^[0-9a-fA-F]+$/.test(hex) || hex.length !== width) return undefined;
      const value = Number.parseInt(hex, 16);
      if (kind === 'x') bytes.push(value);
      else if (value > 0x10ffff || (value >= 0xd800 && value <= 0xdfff)) return undefined;
      else bytes.push(...Buffer.from(String.fromCodePoint(value), 'utf8'));
      i += width;
    } else if (/[0-7]/.test(kind)) {
      const octal = body.slice(i, i + 3);
      if (!/^[0-7]{3}$/.test(octal) || Number.parseInt(octal, 8) > 255) return undefined;
      bytes.push(Number.parseInt(octal, 8));
      i += 2;
    } else {
      return undefined;
    }
  }
  return Buffer.from(bytes).toString('utf8');
}
