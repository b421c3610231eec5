import { setTimeout as sleepTimer } from 'node:timers/promises';

/** The one deadline of a run. Every request, probe, retry sleep and drain takes its signal and its remaining time. */
export interface Deadline {
  readonly signal: AbortSignal;
  readonly totalMs: number;
  /** Whole milliseconds left (timers take integers), never below zero. */
  remaining(): number;
  /** Milliseconds since the process started. */
  elapsed(): number;
  expired(): boolean;
}

/**
 * The deadline counts from the start of the process (performance.now() is measured from it), not from the moment the
 * config is ready: on a busy node, loading the program can take a good part of a second, and the kubelet's clock
 * started with the exec.
 */
export function createDeadline(totalMs: number): Deadline {
  const elapsed = () => performance.now();
  // A long-running mode (the controller) has no deadline: Infinity, whose signal never aborts by time.
  const signal = Number.isFinite(totalMs) ? AbortSignal.timeout(Math.max(1, Math.floor(totalMs - elapsed()))) : new AbortController().signal;
  return {
    signal,
    totalMs,
    elapsed,
    remaining: () => (Number.isFinite(totalMs) ? Math.max(0, Math.floor(totalMs - elapsed())) : Number.MAX_SAFE_INTEGER),
    expired: () => signal.aborted || elapsed() >= totalMs,
  };
}

/** Sleeps `ms`, or less if the deadline comes first; never throws on the deadline. */
export async function sleepWithin(ms: number, deadline: Deadline): Promise<void> {
  const wait = Math.min(ms, deadline.remaining());
  if (wait <= 0) return;
  await sleepTimer(wait, undefined, { signal: deadline.signal }).catch(() => undefined);
}

/**
 * A deadline `ms` from now that also ends with `signal`: for one step of a run that has no deadline of its own (the
 * controller's listing of the CMDB), so that step goes through the one retry layer like a hook's request.
 */
export function deadlineWithin(ms: number, signal: AbortSignal): Deadline {
  const start = performance.now();
  const elapsed = () => performance.now() - start;
  const ended = AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, Math.floor(ms)))]);
  return {
    signal: ended,
    totalMs: ms,
    elapsed,
    remaining: () => Math.max(0, Math.floor(ms - elapsed())),
    expired: () => ended.aborted || elapsed() >= ms,
  };
}

/** The same deadline, ended early by `stop` too: a run that can be stopped (a register a deregister overtakes). */
export function endingWith(deadline: Deadline, stop: AbortSignal): Deadline {
  const signal = AbortSignal.any([deadline.signal, stop]);
  return { ...deadline, signal, expired: () => signal.aborted || deadline.expired() };
}
