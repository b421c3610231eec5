import pRetry, { AbortError } from 'p-retry';
import { formatDuration } from '../settings/duration.ts';
import { CmdbUnavailableError, HookError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { Deadline } from './deadline.ts';
import { sleepWithin } from './deadline.ts';
import { BACKOFF, honourRetryAfter } from './retry-delay.ts';
import { budgetWithin, type TimeBudget } from './time-budget.ts';

export interface RetryOptions {
  /** What is being done, for messages: "register record 1234_app". */
  what: string;
  deadline: Deadline;
  /** The most one attempt may take; it is cut to what is left of the deadline. */
  attemptTimeoutMs: number;
  log: Logger;
}

/**
 * The one retry layer. Transient errors (decided by the backend) are retried with backoff, honouring Retry-After;
 * anything else stops at once. No attempt and no sleep runs past the deadline: when the next wait would cross it,
 * it gives up straight away and says what it last saw.
 */
export async function withRetry<T>(operation: (attempt: TimeBudget) => Promise<T>, options: RetryOptions): Promise<T> {
  const { deadline, log, what } = options;
  let attempts = 0;
  let last: unknown;
  let gaveUp: CmdbUnavailableError | undefined;
  const giveUp = (why: string) =>
    new CmdbUnavailableError(`${what} failed ${attempts} time(s) in ${formatDuration(deadline.elapsed())}, ${why}; last: ${messageOf(last)}`, { cause: last });

  try {
    return await pRetry(
      async () => {
        attempts++;
        try {
          return await operation(budgetWithin(deadline, options.attemptTimeoutMs));
        } catch (error) {
          last = error;
          if (error instanceof HookError && error.transient) throw error;
          throw new AbortError(error instanceof Error ? error : new Error(String(error)));
        }
      },
      {
        ...BACKOFF,
        retries: Number.POSITIVE_INFINITY,
        signal: deadline.signal,
        async onFailedAttempt({ retryDelay }) {
          const asked = last instanceof CmdbUnavailableError ? last.retryAfterMs : undefined;
          const wait = honourRetryAfter(retryDelay, asked);
          if (wait >= deadline.remaining()) {
            gaveUp = giveUp(`and the next try (in ${formatDuration(wait)}) would pass the ${formatDuration(deadline.totalMs)} deadline`);
            throw gaveUp;
          }
          log.warn({ attempt: attempts, retryInMs: Math.round(wait), retryAfterMs: asked, err: last }, `${what}: attempt ${attempts} failed, retrying`);
          // p-retry itself sleeps retryDelay after this callback; this adds what Retry-After asked for beyond it.
          await sleepWithin(wait - retryDelay, deadline);
        },
      },
    );
  } catch (error) {
    // Cut off by the deadline while retrying a transient failure: say so. A permanent refusal (or a bug) that happened
    // to arrive just as the deadline passed stays what it is.
    // (p-retry then throws the deadline's abort reason, not the error.)
    const permanent = last !== undefined && !(last instanceof HookError && last.transient);
    if (error !== gaveUp && deadline.expired()) throw permanent ? last : giveUp(`until the ${formatDuration(deadline.totalMs)} deadline passed`);
    throw error;
  }
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
