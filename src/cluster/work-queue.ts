/**
 * The controller's work queue, keyed by record id: what the plan asks of the CMDB goes in, one operation per key at
 * a time comes out.
 *   - coalescing: a key is never in flight twice. Adding a queued key replaces its state (the latest wins); adding a
 *     key in flight makes it run once more, with the latest state, after the current run (unless the latest is the
 *     state being written: that run already does it). Adds in the same tick coalesce before anything starts.
 *   - at most `concurrency` operations in flight, and at most `ratePerSecond` reaching the CMDB in any second (each
 *     holds its slot until a second after its answer, rate-limiter.ts): a CMDB back from an outage sees the backlog
 *     drain at that rate, never a storm, and a CMDB that counts requests per second never sees more, whatever the
 *     latency.
 *   - a transient failure (HookError.transient: CmdbUnavailableError) puts the key back after a per-key backoff; a
 *     permanent one (CmdbRejectedError, or a bug) is reported once and the key dropped until its state changes.
 *   - the signal stops it: nothing more starts, queued keys are dropped, in-flight operations get the same signal in
 *     their budget (they finish or abort with it). idle() resolves when nothing is queued or in flight.
 *
 * Retries: the queue does not run items through withRetry. withRetry sleeps between attempts inside the call, so a
 * CMDB outage would hold every slot asleep (other keys starved), its retries would bypass the rate limit, a newer
 * state could not replace the one being retried, and it needs a run deadline the controller does not have. So the
 * queue re-queues the key itself, with its delay computed from the retry layer's own rules (retry/retry-delay.ts:
 * p-retry's formula, factor 2 from 200 ms, jitter ×1..2, Retry-After honoured), capped at 30 s instead of the hooks'
 * 5 s: a CMDB down for minutes costs each key one attempt per 30 s at most, and loses nothing.
 */
import { isDeepStrictEqual } from 'node:util';
import { CmdbUnavailableError, HookError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { BACKOFF, honourRetryAfter, retryDelay, type BackoffRules } from '../retry/retry-delay.ts';
import type { TimeBudget } from '../retry/time-budget.ts';
import { createWindowLimiter, type RateLimiter } from './rate-limiter.ts';

export interface WorkQueueOptions<S> {
  /** One attempt at making `key` what `state` says (one CMDB operation), within `budget`, like a backend call. */
  run: (key: string, state: S, budget: TimeBudget) => Promise<unknown>;
  /** The most operations in flight. */
  concurrency: number;
  /** The most operations started per second. */
  ratePerSecond: number;
  /** The limiter to take starts from, when others share it (default: one of `ratePerSecond` of its own). */
  limiter?: RateLimiter;
  /** What one operation may take (the budget's timeoutMs; the backend keeps to it). */
  attemptTimeoutMs: number;
  signal: AbortSignal;
  log: Logger;
  /** Backoff between a key's attempts: the retry layer's rules, with maxTimeout 30 s unless given. */
  backoff?: Partial<BackoffRules>;
  /** Whether two states are the same (default: deep equality); a refused key runs again only for a different one. */
  sameState?: (a: S, b: S) => boolean;
  /** Told once per refusal, after it is logged (e.g. for a Kubernetes Event). */
  onRejected?: (key: string, state: S, error: unknown) => void;
}

/**
 * Plain numbers for metrics. Now: queued (keys waiting to start, backing off or not, and keys in flight that will run
 * again), inFlight. Since the start: done (operations that succeeded), failed (refusals), retried (transient failures).
 */
export interface WorkQueueCounts {
  queued: number;
  inFlight: number;
  done: number;
  failed: number;
  retried: number;
}

export interface WorkQueue<S> {
  add(key: string, state: S): void;
  /** Forgets a key: its queued state and its refusal (for a key whose record is no longer wanted). */
  forget(key: string): void;
  counts(): WorkQueueCounts;
  /** Resolves when nothing is queued or in flight (after the signal: when the in-flight operations have ended). */
  idle(): Promise<void>;
}

interface Entry<S> {
  /** The state queued, or being written while running. */
  state: S;
  running: boolean;
  /** Added while running: runs once more afterwards. */
  next?: { state: S } | undefined;
  failures: number;
  timer?: NodeJS.Timeout | undefined;
}

export const QUEUE_MAX_BACKOFF_MS = 30_000;
// A Retry-After is honoured up to this: a CMDB asking for hours (or a broken header) must not park a key for good.
const MAX_RETRY_AFTER_MS = 5 * 60_000;

export function createWorkQueue<S>(options: WorkQueueOptions<S>): WorkQueue<S> {
  const { concurrency, signal, log } = options;
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError(`concurrency must be a whole number of at least 1, not ${concurrency}`);
  if (!(options.attemptTimeoutMs > 0)) throw new RangeError(`attemptTimeoutMs must be positive, not ${options.attemptTimeoutMs}`);
  const rules: BackoffRules = { ...BACKOFF, maxTimeout: QUEUE_MAX_BACKOFF_MS, ...options.backoff };
  const same = options.sameState ?? isDeepStrictEqual;
  const limiter = options.limiter ?? createWindowLimiter({ ratePerSecond: options.ratePerSecond });
  const entries = new Map<string, Entry<S>>();
  const ready = new Set<string>(); // keys that may start now, oldest first
  const refused = new Map<string, S>();
  const waiters: (() => void)[] = [];
  const totals = { done: 0, failed: 0, retried: 0 };
  let inFlight = 0;
  let stopped = false;
  let pumpQueued = false;
  let rateTimer: NodeJS.Timeout | undefined;

  const settle = () => {
    if (inFlight > 0 || entries.size > 0) return;
    for (const resolve of waiters.splice(0)) resolve();
  };
  const schedule = () => {
    if (pumpQueued || rateTimer || stopped) return;
    pumpQueued = true;
    queueMicrotask(pump);
  };

  function pump(): void {
    pumpQueued = false;
    while (!stopped && inFlight < concurrency && ready.size > 0) {
      const wait = limiter.take();
      if (wait > 0) {
        rateTimer = setTimeout(() => {
          rateTimer = undefined;
          pump();
        }, wait);
        return;
      }
      const [key] = ready;
      ready.delete(key as string);
      start(key as string, entries.get(key as string) as Entry<S>);
    }
  }

  function start(key: string, entry: Entry<S>): void {
    entry.running = true;
    inFlight++;
    const state = entry.state;
    const budget: TimeBudget = { signal, timeoutMs: options.attemptTimeoutMs, endsAt: performance.now() + options.attemptTimeoutMs };
    // async: a run that throws before its promise is made fails like one that rejects.
    const attempt = async () => options.run(key, state, budget);
    void attempt().then(
      () => finished(key, entry, state, true, undefined),
      (error: unknown) => finished(key, entry, state, false, error),
    );
  }

  function finished(key: string, entry: Entry<S>, state: S, ok: boolean, error: unknown): void {
    inFlight--;
    limiter.release();
    entry.running = false;
    const next = entry.next;
    entry.next = undefined;
    if (ok) totals.done++;
    if (stopped) {
      entries.delete(key);
      if (!ok) log.debug({ key, err: error }, `${key}: ended by the stop`);
    } else if (ok) {
      entry.failures = 0;
      if (next) requeue(key, entry, next.state);
      else entries.delete(key);
    } else if (error instanceof HookError && error.transient) {
      totals.retried++;
      entry.failures++;
      if (next) entry.state = next.state;
      const asked = error instanceof CmdbUnavailableError ? error.retryAfterMs : undefined;
      const wait = Math.min(honourRetryAfter(retryDelay(entry.failures, rules), asked), Math.max(rules.maxTimeout, MAX_RETRY_AFTER_MS));
      log.debug({ key, failures: entry.failures, retryInMs: Math.round(wait), err: error }, `${key}: attempt failed, queued again`);
      entry.timer = setTimeout(() => {
        entry.timer = undefined;
        ready.add(key);
        schedule();
      }, wait);
    } else {
      totals.failed++;
      report(key, state, error);
      if (next && !same(next.state, state)) {
        entry.failures = 0;
        requeue(key, entry, next.state);
      } else {
        entries.delete(key);
        refused.set(key, state);
      }
    }
    schedule();
    settle();
  }

  function requeue(key: string, entry: Entry<S>, state: S): void {
    entry.state = state;
    ready.add(key);
  }

  function report(key: string, state: S, error: unknown): void {
    const message = `${key}: refused; not tried again until its desired state changes`;
    if (error instanceof HookError) log.warn({ key, err: error }, message);
    else log.error({ key, err: error }, `${message} (not a CMDB answer: a bug)`);
    try {
      options.onRejected?.(key, state, error);
    } catch (thrown) {
      log.error({ key, err: thrown }, `${key}: the refusal's report failed`);
    }
  }

  function drop(key: string, entry: Entry<S>): void {
    clearTimeout(entry.timer);
    ready.delete(key);
    entries.delete(key);
  }

  const stop = () => {
    stopped = true;
    clearTimeout(rateTimer);
    rateTimer = undefined;
    for (const [key, entry] of entries) if (!entry.running) drop(key, entry);
    settle();
  };
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });

  return {
    add(key, state) {
      if (stopped) return;
      if (refused.has(key)) {
        if (same(refused.get(key) as S, state)) return;
        refused.delete(key);
      }
      const entry = entries.get(key);
      if (!entry) {
        entries.set(key, { state, running: false, failures: 0 });
        ready.add(key);
        schedule();
      } else if (entry.running) {
        entry.next = same(entry.state, state) ? undefined : { state };
      } else {
        entry.state = state;
      }
    },
    forget(key) {
      refused.delete(key);
      const entry = entries.get(key);
      if (entry?.running) entry.next = undefined;
      else if (entry) drop(key, entry);
      settle();
    },
    counts() {
      let queued = 0;
      for (const entry of entries.values()) if (!entry.running || entry.next) queued++;
      return { queued, inFlight, ...totals };
    },
    idle() {
      return new Promise<void>((resolve) => {
        waiters.push(resolve);
        settle();
      });
    },
  };
}
