/**
 * The work queue's limit on starts: at most `ratePerSecond` in any window of WINDOW_MS (a sliding window over the
 * last starts), as fast as --cmdb-concurrency lets them go within it.
 *
 * The window is a little longer than a second because a CMDB counts arrivals, not starts: requests started at an
 * even pace reach it with a spread of latencies, so a strict second of starts puts one or two more than the rate into
 * some second of arrivals (npm run bench: 18 to 22 answers 429 in 2,000 at 200/s from a CMDB counting per second).
 * 20 ms of slack absorbs that jitter (a few ms on one machine; more across a network) for 2% of the rate. A small token bucket before it (to spread each second's
 * starts evenly) cost a whole second of a 10 s sync and did not stop those 429s; the concurrency already keeps the
 * CMDB from seeing more than --cmdb-concurrency requests at once.
 */
export const WINDOW_MS = 1020;

export interface RateLimiter {
  /** Records a start and returns 0, or records nothing and returns the milliseconds until a start is allowed. */
  take(): number;
}

export interface WindowLimiterOptions {
  ratePerSecond: number;
  /** The clock, in milliseconds (default performance.now); tests pass their own. */
  now?: () => number;
}

/** Waits until the limiter allows a start, and records it (for callers that are not the work queue's pump). */
export async function startAllowed(limiter: RateLimiter, signal: AbortSignal): Promise<void> {
  for (let wait = limiter.take(); wait > 0; wait = limiter.take()) {
    signal.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}

export function createWindowLimiter(options: WindowLimiterOptions): RateLimiter {
  const { ratePerSecond } = options;
  if (!(ratePerSecond >= 1) || !Number.isInteger(ratePerSecond)) throw new RangeError(`ratePerSecond must be a whole number of at least 1, not ${ratePerSecond}`);
  const now = options.now ?? (() => performance.now());
  // The last `ratePerSecond` start times, as a ring: `next` is the oldest once the ring is full.
  const starts = new Float64Array(ratePerSecond).fill(Number.NEGATIVE_INFINITY);
  let next = 0;
  return {
    take() {
      const at = now();
      const wait = (starts[next] ?? Number.NEGATIVE_INFINITY) + WINDOW_MS - at;
      if (wait <= 0) {
        starts[next] = at;
        next = (next + 1) % ratePerSecond;
        return 0;
      }
      // Whole milliseconds (timers take integers), rounded up so a timer never fires before the window allows.
      return Math.max(1, Math.ceil(wait));
    },
  };
}
