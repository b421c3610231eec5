import type { TimeBudget } from '../retry/time-budget.ts';

/** One readiness check. `detail` is what was seen ("503", "ECONNREFUSED", "timed out"), for logs and the summary. */
export interface ProbeResult {
  ready: boolean;
  detail: string;
  /** Something worth a warning even when ready, e.g. a redirect to another host that was not followed. */
  warning?: string;
  /** The check's own time ran out (its timer fired, or the run's deadline): what it saw is no verdict on the app. */
  timedOut?: boolean;
}

export interface Probe {
  /** The target as people read it: "http://127.0.0.1:8080/healthz" or "tcp 127.0.0.1:5432". */
  readonly target: string;
  /** One check within `budget`: its signal is the run's deadline, its timeoutMs the check's own limit. */
  check(budget: TimeBudget): Promise<ProbeResult>;
}
