/**
 * A token bucket: `burst` tokens at most, refilled at `ratePerSecond`. In any window of w seconds it lets at most
 * burst + ratePerSecond × w through, however long it sat idle before. client-go's default controller rate limiter
 * holds its overall rate the same way (a bucket of 10 per second, burst 100, beside per-item backoff).
 */
// Refills are fractions: 0.01 per ms × 99 ms is not exactly 0.99, and must not cost a whole extra millisecond.
const EPSILON = 1e-9;

export interface RateLimiterOptions {
  ratePerSecond: number;
  burst: number;
  /** The clock, in milliseconds (default performance.now); tests pass their own. */
  now?: () => number;
}

export interface RateLimiter {
  /** Takes a token and returns 0, or takes nothing and returns the milliseconds until one will be there. */
  take(): number;
}

export function createRateLimiter(options: RateLimiterOptions): RateLimiter {
  const { ratePerSecond, burst } = options;
  if (!(ratePerSecond > 0) || !Number.isFinite(ratePerSecond)) throw new RangeError(`ratePerSecond must be a positive number, not ${ratePerSecond}`);
  if (!Number.isInteger(burst) || burst < 1) throw new RangeError(`burst must be a whole number of at least 1, not ${burst}`);
  const now = options.now ?? (() => performance.now());
  const perMs = ratePerSecond / 1000;
  let tokens = burst;
  let filledAt = now();
  return {
    take() {
      const at = now();
      tokens = Math.min(burst, tokens + (at - filledAt) * perMs);
      filledAt = at;
      if (tokens >= 1 - EPSILON) {
        tokens = Math.max(0, tokens - 1);
        return 0;
      }
      // Whole milliseconds (timers take integers), rounded up so a timer never fires before the token is there.
      return Math.max(1, Math.ceil((1 - tokens) / perMs - EPSILON));
    },
  };
}
