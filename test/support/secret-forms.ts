/**
 * Finding a secret in output, in any form the agent promises to mask (README "Output"): as is, JSON-escaped,
 * percent-encoded (either hex case), base64 (standard and URL-safe, alone or at any of the three alignments inside a
 * longer base64 text). Any 8 characters in a row of one of those forms count, so a secret cut in two at the end of an
 * excerpt is found too. Written apart from src/cmdb/http-client/masker.ts on purpose: a test must not share the code it checks.
 */
const PIECE = 8;

function formsOf(secret: string): string[] {
  const encoded = encodeURIComponent(secret);
  const forms = [secret, JSON.stringify(secret).slice(1, -1).replaceAll('/', '\\/'), encoded, encoded.toLowerCase().replace(/%[0-9a-f]{2}/g, (hex) => hex.toUpperCase()), encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())];
  const bytes = Buffer.from(secret);
  for (const before of [0, 1, 2]) {
    // Inside a longer base64 text, the characters that also carry bits of the bytes around the secret vary; the
    // ones in between are fixed by the secret alone.
    const text = Buffer.concat([Buffer.alloc(before), bytes]).toString('base64');
    const inner = text.slice(before === 0 ? 0 : before + 1, Math.floor(((before + bytes.length) * 8) / 6));
    forms.push(inner, inner.replaceAll('+', '-').replaceAll('/', '_'));
  }
  return forms;
}

/** The pieces of `secret` (in any of its forms) that appear in `text`; empty when none does. */
export function leakedPieces(secret: string, text: string): string[] {
  const found = new Set<string>();
  for (const form of formsOf(secret)) {
    for (let at = 0; at + PIECE <= form.length; at++) {
      const piece = form.slice(at, at + PIECE);
      if (text.includes(piece)) found.add(piece);
    }
  }
  return [...found];
}
