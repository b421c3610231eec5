import { setTimeout as sleepTimer } from 'node:timers/promises';

/** The one deadline of a run. Every request, probe, retry sleep and drain takes its signal and its remaining time. */
export interface Deadline {
  readonly signal: AbortSignal;
  readonly totalMs: number;
  /** Whole milliseconds left (timers take integers), never below zero. */
  remaining(): number;
  /** Milliseconds since the run started. */
  elapsed(): number;
  expired(): boolean;
}

export function createDeadline(totalMs: number): Deadline {
  const start = performance.now();
  const signal = AbortSignal.timeout(totalMs);
  const elapsed = () => performance.now() - start;
  return {
    signal,
    totalMs,
    elapsed,
    remaining: () => Math.max(0, Math.floor(totalMs - elapsed())),
    expired: () => signal.aborted || elapsed() >= totalMs,
  };
}

/** Sleeps `ms`, or less if the deadline comes first; never throws on the deadline. */
export async function sleepWithin(ms: number, deadline: Deadline): Promise<void> {
  const wait = Math.min(ms, deadline.remaining());
  if (wait <= 0) return;
  await sleepTimer(wait, undefined, { signal: deadline.signal }).catch(() => undefined);
}
