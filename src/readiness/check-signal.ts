import type { TimeBudget } from '../retry/time-budget.ts';
import { timerMs } from '../settings/duration.ts';

/**
 * Runs one readiness check with its own abort signal, which fires at the check's timeout or at the run's deadline,
 * whichever comes first. One controller and one timer per check, both let go as soon as the check ends: the poll runs
 * every few tens of milliseconds, and AbortSignal.timeout/any would leave a live timer and signal behind for every
 * check until its timeout had passed.
 */
export async function withCheckSignal<T>(budget: TimeBudget, check: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const { signal: deadline, timeoutMs } = budget;
  const controller = new AbortController();
  const stop = () => controller.abort();
  if (deadline.aborted) stop();
  const timer = setTimeout(stop, timerMs(timeoutMs));
  deadline.addEventListener('abort', stop, { once: true });
  try {
    return await check(controller.signal);
  } finally {
    clearTimeout(timer);
    deadline.removeEventListener('abort', stop);
  }
}
