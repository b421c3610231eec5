import type { Deadline } from './deadline.ts';

/**
 * The time one step may use, in one shape for every step: a readiness check, a CMDB attempt (which may send several
 * requests: look up, then write). `signal` ends with the run's deadline; `timeoutMs` is what the step was given, and
 * `endsAt` the performance.now() by which it must be over, shared by everything the step does.
 */
export interface TimeBudget {
  readonly signal: AbortSignal;
  readonly timeoutMs: number;
  readonly endsAt: number;
}

/** A step's budget: at most `limitMs`, never past the deadline. */
export function budgetWithin(deadline: Deadline, limitMs: number, signal: AbortSignal = deadline.signal): TimeBudget {
  const timeoutMs = Math.min(limitMs, deadline.remaining());
  return { signal, timeoutMs, endsAt: performance.now() + timeoutMs };
}
