/**
 * Milliseconds a `Retry-After` header asks for: delta-seconds or an HTTP-date (RFC 9110 section 10.2.3).
 * Undefined when absent or unreadable, so the caller falls back to its own backoff.
 */
export function parseRetryAfter(header: string | undefined, now = Date.now()): number | undefined {
  if (header === undefined) return undefined;
  const text = header.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = parseHttpDate(text, now);
  return at === undefined ? undefined : Math.max(0, at - now);
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const DAY = '(?:mon|tue|wed|thu|fri|sat|sun)';
const LONG_DAY = '(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)';
const TIME = '(\\d{2}):(\\d{2}):(\\d{2})';
// RFC 9110 section 5.6.7: the preferred form and the two obsolete ones a recipient must still accept.
const IMF_FIXDATE = new RegExp(`^${DAY}, (\\d{2}) ([a-z]{3}) (\\d{4}) ${TIME} GMT$`, 'i');
const RFC_850 = new RegExp(`^${LONG_DAY}, (\\d{2})-([a-z]{3})-(\\d{2}) ${TIME} GMT$`, 'i');
const ASCTIME = new RegExp(`^${DAY} ([a-z]{3}) ( \\d|\\d{2}) ${TIME} (\\d{4})$`, 'i');

/**
 * An HTTP-date as milliseconds since the epoch, always read as UTC (RFC 9110 section 5.6.7: the first two forms say
 * GMT, and the asctime form, which names no zone, is assumed to be UTC). Date.parse is not used: it reads the
 * asctime form in the container's local time zone (with TZ=America/Los_Angeles a wait of seconds became 8 hours),
 * and it accepts much that is not an HTTP-date. Names are matched in any case, as the RFC asks recipients to be
 * robust.
 */
export function parseHttpDate(text: string, now = Date.now()): number | undefined {
  let parts: { day: string; month: string; year: number; hour: string; minute: string; second: string } | undefined;
  let match = IMF_FIXDATE.exec(text);
  if (match) {
    const [, day = '', month = '', year = '', hour = '', minute = '', second = ''] = match;
    parts = { day, month, year: Number(year), hour, minute, second };
  } else if ((match = RFC_850.exec(text))) {
    const [, day = '', month = '', year = '', hour = '', minute = '', second = ''] = match;
    parts = { day, month, year: fullYear(Number(year), now), hour, minute, second };
  } else if ((match = ASCTIME.exec(text))) {
    const [, month = '', day = '', hour = '', minute = '', second = '', year = ''] = match;
    parts = { day: day.trim(), month, year: Number(year), hour, minute, second };
  }
  if (!parts) return undefined;
  const month = MONTHS.indexOf(parts.month.toLowerCase());
  const [day, hour, minute, second] = [parts.day, parts.hour, parts.minute, parts.second].map(Number) as [number, number, number, number];
  // Date.UTC would roll 31 Feb over into March: a date that does not exist is refused instead. A leap second (60)
  // is allowed, as the grammar does.
  const at = Date.UTC(parts.year, month, day, hour, minute, Math.min(second, 59));
  if (month < 0 || hour > 23 || minute > 59 || second > 60 || new Date(at).getUTCDate() !== day) return undefined;
  return at + (second === 60 ? 1000 : 0);
}

/**
 * The two-digit year of the RFC 850 form: RFC 9110 section 5.6.7 says one that appears to be more than 50 years in
 * the future is the most recent past year with the same last two digits.
 */
function fullYear(twoDigits: number, now: number): number {
  const thisYear = new Date(now).getUTCFullYear();
  let year = thisYear - (thisYear % 100) + twoDigits;
  if (year > thisYear + 50) year -= 100;
  return year;
}
