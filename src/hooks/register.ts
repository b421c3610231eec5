import type { CmdbBackend, WriteResult } from '../cmdb/backend.ts';
import type { HookConfig } from '../config/hook-config.ts';
import { buildRecord } from '../pod/record.ts';
import { createProbe } from '../readiness/create-probe.ts';
import { waitUntilReady } from '../readiness/wait-until-ready.ts';
import type { Deadline } from '../retry/deadline.ts';
import type { TimeBudget } from '../retry/time-budget.ts';
import { withRetry } from '../retry/with-retry.ts';
import type { Outcome, RunContext } from '../run-context.ts';
import { formatDuration } from '../settings/duration.ts';
import type { Hook } from './open-hook.ts';
import { guardRegister } from './register-guard.ts';

/**
 * postStart: read who we are, wait until the app is really ready, then upsert the record, all inside one deadline.
 * Everything that can be wrong with the configuration fails before the first probe or request.
 */
export async function register(hook: Hook, context: RunContext): Promise<Outcome> {
  const { deadline } = context;
  const { config, pod, backend } = hook;

  // What the record will hold, to check before waiting; the one sent is built after readiness (its observedAt).
  const draft = buildRecord(pod, config, 'ready');
  backend.check?.(draft);

  if (config.dryRun) {
    context.print(backend.plan('upsert', draft));
    return { summary: 'dry run: printed the request(s) it would send; readiness not checked, nothing sent' };
  }

  // From here on this run is announced: a deregister of this container that starts later stops it.
  const guard = guardRegister(draft.id, context);
  let answered: WriteResult | undefined;
  try {
    // Each attempt runs on the run's own deadline, not the guard's: a stop lets the request in flight be answered.
    const result = await upsertWhenReady(hook, context, guard, deadline.signal, (answer) => (answered = answer));
    return { summary: `registered as ${draft.id} (${result.detail}) in ${formatDuration(deadline.elapsed())}` };
  } catch (error) {
    const why = guard.stopped();
    if (why === undefined) throw error;
    return { summary: answered ? `${why}; stopped once its write in flight was answered (${answered.detail})` : `${why}; nothing registered` };
  } finally {
    guard.end();
  }
}

/** What decides whether a register may still write: the hook's guard (src/hooks/register-guard.ts), or the sidecar's stop. */
export interface RegisterGate {
  /** Readiness checks and retry sleeps obey it; it ends early when the run is stopped. */
  readonly deadline: Deadline;
  /** Sends one CMDB attempt, or throws when the run has been stopped. */
  attempt<T>(send: () => Promise<T>): Promise<T>;
  /** Why the run was stopped, or undefined. */
  stopped(): string | undefined;
}

/**
 * The part of a register that the hook and the sidecar share: wait until the app is ready (unless stopped already),
 * then upsert the record, observed at that moment, through the one retry layer. `requestSignal` ends a request in
 * flight; it is not the gate's, so that a stop lets the answer of a write already sent come back first.
 */
export async function upsertWhenReady(hook: Hook, context: RunContext, gate: RegisterGate, requestSignal: AbortSignal, onAnswer?: (answer: WriteResult) => void): Promise<WriteResult> {
  const { config, pod, backend } = hook;
  if (gate.stopped() === undefined) await waitForTheApp(config, backend, gate.deadline, context);
  // observedAt is the moment the app was seen ready, not the moment the hook started.
  context.phase = 'cmdb';
  const record = buildRecord(pod, config, 'ready');
  const send = (attempt: TimeBudget) =>
    gate.attempt(async () => {
      const answer = await backend.upsert(record, { ...attempt, signal: requestSignal });
      onAnswer?.(answer);
      return answer;
    });
  const result = await withRetry(send, { what: `register record ${record.id}`, deadline: gate.deadline, attemptTimeoutMs: hook.requestTimeoutMs, log: context.log });
  context.log.info({ id: record.id, result: result.detail }, 'registered');
  return result;
}

async function waitForTheApp(config: HookConfig, backend: CmdbBackend, deadline: Deadline, context: RunContext): Promise<void> {
  const { log } = context;
  if (!config.readiness) {
    log.warn('no --ready-url or --ready-tcp: registering at once, without knowing that the app is ready');
    return;
  }
  context.phase = 'readiness';
  // Load and rehearse the HTTP client while the app starts, not after it is ready: that would add ~20 ms to every lag.
  backend.warmUp().catch((error: unknown) => log.debug({ err: error }, 'warm-up failed; the first request will load it'));
  const probe = createProbe(config.readiness);
  log.info({ target: probe.target, timeoutMs: config.timeoutMs }, 'waiting for the app to be ready');
  await waitUntilReady(probe, { deadline, intervalMs: config.readyIntervalMs, checkTimeoutMs: config.readyTimeoutMs, log });
}
