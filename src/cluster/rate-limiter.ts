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

/**
 * The work queue's limit on starts: at most `ratePerSecond` in any second (a sliding window of the last starts), and
 * no more than a tenth of a second's worth at once (a token bucket of burst rate/10). The window alone would let a
 * whole second's worth out in a burst after a quiet spell; a small bucket alone loses capacity to every timer that
 * fires late (burst 1 ran at 175 of 200 per second in npm run bench), and a big one lets more than the rate into a
 * second (burst 8 drew 429s from a CMDB limited to the same rate). Together: the rate is reached, never exceeded in
 * any second, and never a storm within one.
 */
export function createWindowLimiter(options: Omit<RateLimiterOptions, 'burst'>): RateLimiter {
  const { ratePerSecond } = options;
  if (!(ratePerSecond >= 1) || !Number.isInteger(ratePerSecond)) throw new RangeError(`ratePerSecond must be a whole number of at least 1, not ${ratePerSecond}`);
  const now = options.now ?? (() => performance.now());
  const burst = Math.max(1, Math.ceil(ratePerSecond / 10));
  const perMs = ratePerSecond / 1000;
  let tokens = burst;
  let filledAt = now();
  // The last `ratePerSecond` start times, as a ring: `next` is the oldest once the ring is full.
  const starts = new Float64Array(ratePerSecond).fill(Number.NEGATIVE_INFINITY);
  let next = 0;
  return {
    take() {
      const at = now();
      tokens = Math.min(burst, tokens + (at - filledAt) * perMs);
      filledAt = at;
      const windowWait = (starts[next] ?? Number.NEGATIVE_INFINITY) + 1000 - at;
      const bucketWait = tokens >= 1 - EPSILON ? 0 : (1 - tokens) / perMs;
      if (windowWait <= 0 && bucketWait === 0) {
        tokens = Math.max(0, tokens - 1);
        starts[next] = at;
        next = (next + 1) % ratePerSecond;
        return 0;
      }
      return Math.max(1, Math.ceil(Math.max(windowWait, bucketWait) - EPSILON));
    },
  };
}
