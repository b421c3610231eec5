import { formatDuration } from '../settings/duration.ts';
import { NotReadyError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Deadline } from '../retry/deadline.ts';
import { sleepWithin } from '../retry/deadline.ts';
import { budgetWithin } from '../retry/time-budget.ts';
import type { Probe } from './probe.ts';

export interface WaitOptions {
  deadline: Deadline;
  intervalMs: number;
  checkTimeoutMs: number;
  log: Logger;
}

/**
 * Polls the probe until it passes. Throws NotReadyError, with the last thing seen, when the deadline comes first.
 * Logs only when what it sees changes, so a five-minute wait is a few lines, not three hundred.
 */
export async function waitUntilReady(probe: Probe, options: WaitOptions): Promise<{ checks: number }> {
  const { deadline, log } = options;
  let checks = 0;
  let lastDetail = 'never checked';
  while (!deadline.expired()) {
    checks++;
    const budget = budgetWithin(deadline, options.checkTimeoutMs);
    const { timeoutMs } = budget;
    const started = deadline.elapsed();
    const result = await probe.check(budget);
    if (result.ready) {
      if (result.warning) log.warn({ target: probe.target }, result.warning);
      log.info({ target: probe.target, checks, waitedMs: Math.round(deadline.elapsed()) }, `app ready (${result.detail})`);
      return { checks };
    }
    // A check cut short by the deadline says nothing about the app: keep what the last full check saw. That includes
    // a check given only the time that remained, which used it all: its timer and the deadline's ring together.
    const usedItAll = result.timedOut === true || deadline.elapsed() - started >= timeoutMs;
    const cutShort = deadline.expired() || (timeoutMs < options.checkTimeoutMs && usedItAll);
    if (cutShort && checks > 1) break;
    if (result.detail !== lastDetail) log.info({ target: probe.target, seen: result.detail }, 'app not ready yet');
    lastDetail = result.detail;
    await sleepWithin(options.intervalMs, deadline);
  }
  throw new NotReadyError(`the app was not ready at ${probe.target} within ${formatDuration(deadline.totalMs)} (${checks} checks, last: ${lastDetail}); nothing registered`);
}
