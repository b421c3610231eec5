/**
 * Durations are written the way Go's time.ParseDuration reads them, because the people who write our manifests and
 * ConfigMaps write Go durations everywhere else in Kubernetes: `500ms`, `30s`, `1m30s`, `.5s`, `1.5h`, `2h45m`, `-1s`.
 * The grammar, the units, the int64-nanosecond range and the float64 rounding of fractions follow Go's
 * src/time/format.go (ParseDuration, leadingInt, leadingFraction, unitMap); test/unit/duration.test.ts runs Go's own
 * parseDurationTests and parseDurationErrorTests against it.
 */

/** Nanoseconds per unit; the micro sign (U+00B5) and the Greek mu (U+03BC) both spell microseconds, as in Go. */
const NANOS: ReadonlyMap<string, bigint> = new Map([
  ['ns', 1n],
  ['us', 1_000n],
  ['\u00b5s', 1_000n],
  ['\u03bcs', 1_000n],
  ['ms', 1_000_000n],
  ['s', 1_000_000_000n],
  ['m', 60_000_000_000n],
  ['h', 3_600_000_000_000n],
]);
const INT64_LIMIT = 1n << 63n; // Go durations are int64 nanoseconds: at most 2^63 - 1, down to -2^63
const FRACTION_STEP_LIMIT = (INT64_LIMIT - 1n) / 10n;
/** One term: digits, an optional fraction, then the unit (everything up to the next digit or '.'). */
const TERM = /^(\d*)(?:\.(\d*))?([^\d.]*)/;

export interface DurationProblem {
  ok: false;
  /** Completes "<setting> <value> ...": "has an unknown unit \"d\"". */
  problem: string;
  /** Past Go's range (about 292 years): well-formed, only too long. */
  outOfRange?: true;
}

/**
 * Parses a Go duration into milliseconds (fractions and negative values included: the caller says what a setting
 * allows). Surrounding whitespace is ignored (a ConfigMap block scalar ends in a newline). `0` alone is zero, as in
 * Go; any other number without a unit is refused: `--timeout 300` could mean seconds or milliseconds, and guessing
 * wrong hangs a pod for minutes.
 */
export function parseDuration(text: string): { ok: true; ms: number } | DurationProblem {
  const parsed = parseGoDuration(text.trim());
  return parsed.ok ? { ok: true, ms: Number(parsed.ns) / 1e6 } : parsed;
}

/** Exactly Go's time.ParseDuration: the text as given, to int64 nanoseconds. */
export function parseGoDuration(text: string): { ok: true; ns: bigint } | DurationProblem {
  const malformed: DurationProblem = { ok: false, problem: 'is not a duration' };
  const outOfRange: DurationProblem = { ok: false, problem: 'is out of range', outOfRange: true };
  const negative = text.startsWith('-');
  let rest = negative || text.startsWith('+') ? text.slice(1) : text;
  if (rest === '0') return { ok: true, ns: 0n };
  if (rest === '') return malformed;
  let total = 0n;
  while (rest !== '') {
    const [term = '', whole = '', fraction, unit = ''] = TERM.exec(rest) ?? [];
    rest = rest.slice(term.length);
    if (whole === '' && !fraction) return malformed; // no digits at all: ".s", "-", "s", "hello"
    if (unit === '') return { ok: false, problem: 'has a number without a unit' };
    const perUnit = NANOS.get(unit);
    if (perUnit === undefined) return { ok: false, problem: `has an unknown unit ${JSON.stringify(unit)}` };
    const wholeValue = BigInt(whole || '0');
    if (wholeValue > INT64_LIMIT / perUnit) return outOfRange;
    let value = wholeValue * perUnit;
    const { digits, scale } = fractionOf(fraction ?? '');
    // Go adds the fraction through float64 (exact to the nanosecond for every unit up to hours); so does this.
    if (digits > 0n) value += BigInt(Math.trunc(Number(digits) * (Number(perUnit) / scale)));
    total += value;
    if (total > INT64_LIMIT) return outOfRange;
  }
  if (negative) return { ok: true, ns: -total };
  return total < INT64_LIMIT ? { ok: true, ns: total } : outOfRange;
}

/** The fraction's digits as an integer and the power of ten it is over; digits past int64 precision are dropped. */
function fractionOf(text: string): { digits: bigint; scale: number } {
  let digits = 0n;
  let scale = 1;
  let full = false;
  for (const char of text) {
    if (full) continue;
    const next = digits * 10n + BigInt(char);
    if (digits > FRACTION_STEP_LIMIT || next > INT64_LIMIT) {
      full = true;
      continue;
    }
    digits = next;
    scale *= 10;
  }
  return { digits, scale };
}

/** A delay for a timer: whole milliseconds, at least 1 (AbortSignal.timeout refuses fractions and 0 fires at once). */
export function timerMs(ms: number): number {
  return Math.max(1, Math.round(ms));
}

/** Formats milliseconds the way a person reads them in a log line: `850ms`, `2.5s`, `300s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  const seconds = ms / 1000;
  return `${Number.isInteger(seconds) ? seconds : seconds.toFixed(1)}s`;
}
