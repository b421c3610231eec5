const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const DURATION = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/;

/**
 * Parses `250ms`, `30s`, `1.5s`, `2m`, `1h` into milliseconds. A bare number is refused: `--timeout 300` could mean
 * seconds or milliseconds, and guessing wrong hangs a pod for minutes.
 */
export function parseDuration(text: string): number | undefined {
  const match = DURATION.exec(text.trim());
  if (!match) return undefined;
  const [, amount, unit] = match;
  return Math.round(Number(amount) * (UNITS[unit ?? ''] ?? Number.NaN));
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
