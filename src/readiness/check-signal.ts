import type { TimeBudget } from '../retry/time-budget.ts';
import type { ProbeResult } from './probe.ts';
import { timerMs } from '../settings/duration.ts';

/**
 * Runs one readiness check with its own abort signal, which fires at the check's timeout or at the run's deadline,
 * whichever comes first. One controller and one timer per check, both let go as soon as the check ends: the poll runs
 * every few tens of milliseconds, and AbortSignal.timeout/any would leave a live timer and signal behind for every
 * check until its timeout had passed.
 */
export async function withCheckSignal(budget: TimeBudget, check: (signal: AbortSignal) => Promise<ProbeResult>): Promise<ProbeResult> {
  const { signal: deadline, timeoutMs } = budget;
  const controller = new AbortController();
  const stop = () => controller.abort();
  if (deadline.aborted) stop();
  const timer = setTimeout(stop, timerMs(timeoutMs));
  deadline.addEventListener('abort', stop, { once: true });
  try {
    const result = await check(controller.signal);
    // Marked here, where the timer is: the caller cannot tell by its own clock, since libuv starts a timer from the
    // loop's cached time and it can fire a little before timeoutMs has passed by performance.now().
    return !result.ready && controller.signal.aborted ? { ...result, timedOut: true } : result;
  } finally {
    clearTimeout(timer);
    deadline.removeEventListener('abort', stop);
  }
}
