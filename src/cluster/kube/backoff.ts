/**
 * Capped exponential backoff with jitter for loops that never give up (list+watch). Each delay is drawn from
 * [d/2, d] where d doubles from `initialMs` up to `maxMs` ("equal jitter": never shorter than half the step, so a
 * run of failures always slows down, and a fleet of controllers does not come back in the same millisecond).
 * client-go's reflector backs off from 800 ms to 30 s the same way (jitter 1.0) and forgets after a quiet while.
 */
import { setTimeout as sleepTimer } from 'node:timers/promises';

export interface BackoffOptions {
  /** Default 800 ms. */
  initialMs?: number;
  /** Default 30 s. */
  maxMs?: number;
}

export interface Backoff {
  /** The next delay, at least `floorMs` (a Retry-After), and one step further. */
  next(floorMs?: number): number;
  /** A success: start again from the first step. */
  reset(): void;
}

export function createBackoff(options: BackoffOptions = {}): Backoff {
  const initialMs = options.initialMs ?? 800;
  const maxMs = Math.max(initialMs, options.maxMs ?? 30_000);
  let step = initialMs;
  return {
    next(floorMs = 0) {
      const delay = step / 2 + (Math.random() * step) / 2;
      step = Math.min(maxMs, step * 2);
      return Math.max(delay, floorMs);
    },
    reset() {
      step = initialMs;
    },
  };
}

/** Sleeps, or less when the signal aborts; never throws. */
export async function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted || ms <= 0) return;
  await sleepTimer(ms, undefined, { signal }).catch(() => undefined);
}
