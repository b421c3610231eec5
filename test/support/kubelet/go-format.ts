/**
 * The kubelet's downwardAPI file for metadata.labels / metadata.annotations (kubernetes pkg/fieldpath FormatMap):
 * keys sorted, one `key=<Go %q of the value>` per line, no trailing newline. %q is strconv.Quote: the named escapes,
 * \xNN for other ASCII controls, printable Unicode kept as UTF-8, other runes as \uNNNN or \UNNNNNNNN.
 */
export function formatGoQuotedMap(map: Record<string, string>): string {
  return Object.keys(map)
    .sort()
    .map((key) => `${key}=${quoteGo(map[key] ?? '')}`)
    .join('\n');
}

const NAMED: Record<string, string> = { '\u0007': '\\a', '\b': '\\b', '\f': '\\f', '\n': '\\n', '\r': '\\r', '\t': '\\t', '\v': '\\v', '\\': '\\\\', '"': '\\"' };
// Go's unicode.IsPrint: letters, marks, numbers, punctuation, symbols and the ASCII space.
const PRINTABLE = /^[\p{L}\p{M}\p{N}\p{P}\p{S} ]$/u;

export function quoteGo(value: string): string {
  let out = '"';
  for (const char of value) {
    const codePoint = char.codePointAt(0) ?? 0;
    if (NAMED[char]) out += NAMED[char];
    else if (PRINTABLE.test(char)) out += char;
    else if (codePoint < 0x80) out += `\\x${codePoint.toString(16).padStart(2, '0')}`;
    else if (codePoint < 0x10000) out += `\\u${codePoint.toString(16).padStart(4, '0')}`;
    else out += `\\U${codePoint.toString(16).padStart(8, '0')}`;
  }
  return `${out}"`;
}
