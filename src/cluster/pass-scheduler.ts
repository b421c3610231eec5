/**
 * When the controller's next full pass runs: one at a time, never two at once, at the earliest time anything asked
 * for. A pass asked for while one runs follows it. A failed pass is tried again after a backoff (capped), so a CMDB
 * that is down is not listed in a tight loop.
 */
export interface PassScheduler {
  /** Runs a pass within `delayMs` (sooner if another reason asked for sooner). */
  within(delayMs: number, reason: string): void;
  /** Cancels the pass that is due (a pass running goes on). */
  stop(): void;
}

export interface PassSchedulerOptions {
  /** Runs one pass; throws when it failed (the scheduler backs off). */
  pass(reasons: string[]): Promise<void>;
  onError(error: unknown, retryInMs: number): void;
  signal: AbortSignal;
  /** Backoff after a failed pass: from 1 s, doubling, up to this (default 60 s). */
  maxBackoffMs?: number;
}

export function createPassScheduler(options: PassSchedulerOptions): PassScheduler {
  const maxBackoffMs = options.maxBackoffMs ?? 60_000;
  let dueAt = Number.POSITIVE_INFINITY;
  let timer: NodeJS.Timeout | undefined;
  let running = false;
  let failures = 0;
  let reasons: string[] = [];

  const arm = () => {
    clearTimeout(timer);
    timer = undefined;
    if (running || options.signal.aborted || dueAt === Number.POSITIVE_INFINITY) return;
    timer = setTimeout(fire, Math.max(0, dueAt - performance.now()));
  };
  const fire = () => {
    timer = undefined;
    running = true;
    dueAt = Number.POSITIVE_INFINITY;
    const why = reasons;
    reasons = [];
    options.pass(why).then(
      () => {
        failures = 0;
      },
      (error: unknown) => {
        if (options.signal.aborted) return;
        const retryInMs = Math.min(maxBackoffMs, 1000 * 2 ** failures++);
        options.onError(error, retryInMs);
        dueAt = Math.min(dueAt, performance.now() + retryInMs);
        reasons.push('retry after a failed pass');
      },
    ).finally(() => {
      running = false;
      arm();
    });
  };
  options.signal.addEventListener('abort', () => clearTimeout(timer), { once: true });

  return {
    within(delayMs, reason) {
      reasons.push(reason);
      const at = performance.now() + Math.max(0, delayMs);
      if (at >= dueAt) return;
      dueAt = at;
      arm();
    },
    stop() {
      clearTimeout(timer);
      timer = undefined;
      dueAt = Number.POSITIVE_INFINITY;
    },
  };
}
