/** Replaces every secret a client knows with `***` in text from the far side (an echo of our headers) or a template. */
export interface Masker {
  (text: string): string;
  /**
   * For text cut short (the start of a long answer): masks it, then drops what could be the start of a secret cut
   * in two at the end, which no whole form would match.
   */
  cutShort(text: string): string;
}

/**
 * Each secret is masked in the forms a server may echo it: as is, JSON-escaped (PHP escapes `/` as `\/`),
 * percent-encoded (either hex case), and base64-encoded, each of those escaped the same ways.
 *
 * Base64 (RFC 4648): standard and URL-safe alphabets, with and without padding, for an echo of the secret alone (a
 * basic-auth header, a decoded-then-encoded token); and the three alignments the secret can have inside a longer
 * base64 text (an encoded header line, a dump of the request), each without the first and last characters that also
 * carry bits of the bytes around it. The GitHub Actions runner masks secrets in the same three alignments.
 *
 * Masking is plain substring search, longest form first (a secret that contains another is masked whole): its cost
 * grows with the text and the secrets' length, and nothing is compiled from a secret (a RegExp of a 31,000-character
 * token is too large for V8, and its error message would carry the token).
 */
export function maskerOf(secrets: readonly (string | undefined)[]): Masker {
  const forms = new Set<string>();
  for (const secret of secrets) {
    // Too short to mask without wrecking the text around it; config refuses such secrets anyway.
    if (!secret || secret.length < 4) continue;
    for (const base of [secret, ...base64Forms(secret)]) for (const form of escapedForms(base)) forms.add(form);
  }
  const longestFirst = [...forms].sort((a, b) => b.length - a.length);
  const longest = longestFirst[0]?.length ?? 0;
  const mask = (text: string): string => {
    let masked = text;
    for (const form of longestFirst) masked = masked.replaceAll(form, '***');
    return masked;
  };
  return Object.assign(mask, {
    cutShort(text: string): string {
      const masked = mask(text);
      return masked.slice(0, Math.max(0, masked.length - Math.max(0, longest - 1)));
    },
  });
}

function escapedForms(text: string): string[] {
  const escaped = JSON.stringify(text).slice(1, -1);
  const encoded = encodeURIComponent(text);
  return [text, escaped, escaped.replaceAll('/', '\\/'), encoded, encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())];
}

function base64Forms(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  const whole = bytes.toString('base64');
  const forms = [whole, whole.replace(/=+$/, '')];
  for (const shift of [0, 1, 2]) {
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    // 4 characters carry 3 bytes: with `shift` unknown bytes before the secret, the first `shift + 1` characters
    // (none for shift 0) hold bits of them; the characters past the last whole 6 bits of the secret hold bits of
    // the unknown bytes after it.
    forms.push(encoded.slice(shift === 0 ? 0 : shift + 1, Math.floor(((shift + bytes.length) * 8) / 6)));
  }
  return [...forms, ...forms.map(toUrlSafe)];
}

function toUrlSafe(base64: string): string {
  return base64.replaceAll('+', '-').replaceAll('/', '_');
}
