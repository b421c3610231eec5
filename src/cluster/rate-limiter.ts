/**
 * The limit on the controller's CMDB requests: at most `ratePerSecond` of them reach the CMDB in any second, writes
 * and listings together, as fast as --cmdb-concurrency lets them go within that.
 *
 * A CMDB counts arrivals, and an arrival lies somewhere between a request's start and its answer. Counting starts
 * over a sliding second is not enough: latencies vary, so requests started a second apart can arrive closer together.
 * The first requests of a process are the worst (npm run bench: 146 ms from start to arrival for the first listing,
 * 110 ms for the first writes, then a few ms), and a CMDB counting per second answered one 429 per 2,000-record sync
 * even with 20 ms of slack on the window. So a slot is held from the start until one window after the answer: any
 * request that arrived within the last second either is still in flight or was answered within it, and both count.
 * That is exact whatever the latency, and costs one latency per slot (a few ms on loopback, 1 to 5% of the rate
 * against a CMDB 10 to 50 ms away), less than the slack it replaces cost on loopback.
 */
export const WINDOW_MS = 1000;
/** When every slot is in flight: how soon to ask again (the work queue also asks as soon as one of its own ends). */
const BUSY_RETRY_MS = 10;

export interface RateLimiter {
  /** Takes a slot and returns 0, or takes nothing and returns the milliseconds after which to ask again. */
  take(): number;
  /** The request of a slot taken has ended (answered, failed or aborted): the slot comes back one window later. */
  release(): void;
}

export interface WindowLimiterOptions {
  ratePerSecond: number;
  /** The clock, in milliseconds (default performance.now); tests pass their own. */
  now?: () => number;
}

/** Runs one request in a slot of the limiter, waiting for one first (for callers that are not the work queue). */
export async function inSlot<T>(limiter: RateLimiter, signal: AbortSignal, request: () => Promise<T>): Promise<T> {
  for (let wait = limiter.take(); wait > 0; wait = limiter.take()) {
    signal.throwIfAborted();
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
  try {
    return await request();
  } finally {
    limiter.release();
  }
}

export function createWindowLimiter(options: WindowLimiterOptions): RateLimiter {
  const { ratePerSecond } = options;
  if (!(ratePerSecond >= 1) || !Number.isInteger(ratePerSecond)) throw new RangeError(`ratePerSecond must be a whole number of at least 1, not ${ratePerSecond}`);
  const now = options.now ?? (() => performance.now());
  // When each of the last `ended` requests ended, oldest at `head`: a ring, since they end in time order.
  const ends = new Float64Array(ratePerSecond);
  let head = 0;
  let ended = 0;
  let inFlight = 0;
  return {
    take() {
      const at = now();
      while (ended > 0 && (ends[head] as number) + WINDOW_MS <= at) {
        head = (head + 1) % ratePerSecond;
        ended--;
      }
      if (inFlight + ended < ratePerSecond) {
        inFlight++;
        return 0;
      }
      // Whole milliseconds (timers take integers), rounded up so a timer never fires before the window allows.
      return ended > 0 ? Math.max(1, Math.ceil((ends[head] as number) + WINDOW_MS - at)) : BUSY_RETRY_MS;
    },
    release() {
      if (inFlight === 0) throw new Error('a rate limiter slot released that was not taken');
      inFlight--;
      ends[(head + ended) % ratePerSecond] = now();
      ended++;
    },
  };
}
