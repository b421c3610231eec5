/**
 * The backoff rules of the one retry layer, in one place: withRetry hands them to p-retry, and the controller's work
 * queue (which re-queues a key rather than sleeping in a slot) computes its delays from the same rules. The formula is
 * p-retry 9's (its calculateDelay): minTimeout × factor^(retry − 1), times a random 1 to 2 when randomize is set,
 * rounded, then capped at maxTimeout.
 */
export interface BackoffRules {
  readonly factor: number;
  readonly minTimeout: number;
  readonly maxTimeout: number;
  readonly randomize: boolean;
}

// Exponential backoff with jitter, capped so a hook's short deadline keeps trying every few seconds.
export const BACKOFF: BackoffRules = { factor: 2, minTimeout: 200, maxTimeout: 5_000, randomize: true };

/** The wait before retry number `retry` (1: after the first failure). */
export function retryDelay(retry: number, rules: BackoffRules = BACKOFF): number {
  const random = rules.randomize ? 1 + Math.random() : 1;
  return Math.min(Math.round(random * rules.minTimeout * rules.factor ** (Math.max(1, retry) - 1)), rules.maxTimeout);
}

/**
 * The wait once the CMDB said how long (Retry-After): at least that, plus up to 20% jitter so a rollout's pods (or a
 * queue's keys) do not all come back in the same millisecond; never less than the backoff's own delay.
 */
export function honourRetryAfter(delayMs: number, retryAfterMs: number | undefined): number {
  return retryAfterMs === undefined ? delayMs : Math.max(delayMs, retryAfterMs * (1 + Math.random() * 0.2));
}
