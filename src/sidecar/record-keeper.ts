import type { WriteResult } from '../cmdb/backend.ts';
import type { SidecarConfig } from '../config/sidecar-config.ts';
import { describeRemoval, drainNote, removeRecord } from '../hooks/deregister.ts';
import type { Hook } from '../hooks/open-hook.ts';
import { upsertWhenReady, type RegisterGate } from '../hooks/register.ts';
import { buildRecord, recordId } from '../pod/record.ts';
import { createDeadline, deadlineWithin, endingWith, sleepWithin, type Deadline } from '../retry/deadline.ts';
import { withRetry } from '../retry/with-retry.ts';
import type { RunContext } from '../run-context.ts';
import { createHeartbeat } from '../serve/heartbeat.ts';
import type { Check } from '../serve/http-endpoints.ts';
import { jittered } from './beat-schedule.ts';

type State = 'registering' | 'registered' | 'failed open' | 'deregistering' | 'deregistered';

/** How a deregister ended, for the /deregister answer and the summary line. */
export interface Deregistered {
  readonly ok: boolean;
  readonly summary: string;
}

/** The sidecar's one record, kept: registered once the app is ready, re-asserted on each beat, deregistered once. */
export interface RecordKeeper {
  /** /readyz: written (or, without --strict, the register deadline passed), and not deregistered. */
  readonly ready: () => Check;
  /** /healthz: with --heartbeat, its loop has run lately. */
  readonly live: () => Check;
  /** Registers, then beats (with --heartbeat), until deregister() stops them. */
  readonly run: () => Promise<void>;
  /** Stops registering and beating, lets a write in flight be answered, then deletes (or retires) within
   *  --deregister-timeout. Once: every later call gets the same promise. */
  readonly deregister: (trigger: string) => Promise<Deregistered>;
}

// With --strict, a register that failed is tried again after this pause, until it succeeds or the pod stops.
const ROUND_PAUSE_MS = 5_000;
const NEVER = new AbortController().signal;

export function createRecordKeeper(hook: Hook, config: SidecarConfig, context: RunContext): RecordKeeper {
  const { log } = context;
  const id = recordId(hook.pod.uid, hook.config.container);
  const stop = new AbortController();
  let state: State = 'registering';
  let inFlight: Promise<unknown> | undefined;
  let deregistering: Promise<Deregistered> | undefined;
  const liveness = config.heartbeatMs > 0 ? createHeartbeat('the record heartbeat', 3 * config.heartbeatMs + 60_000) : undefined;

  /** One CMDB attempt, unless deregistering has begun; the one in flight is what a deregister waits for. */
  const attempt = <T>(send: () => Promise<T>): Promise<T> => {
    if (stop.signal.aborted) return Promise.reject(new Error('stopped: deregistering'));
    const pending = send();
    inFlight = pending.catch(() => undefined);
    return pending;
  };
  const gated = (deadline: Deadline) => endingWith(deadline, stop.signal);

  async function registerOnce(deadline: Deadline): Promise<WriteResult> {
    const gate: RegisterGate = { deadline: gated(deadline), attempt, stopped: () => (stop.signal.aborted ? 'deregistering' : undefined) };
    return upsertWhenReady(hook, context, gate, deadline.signal);
  }

  async function register(): Promise<void> {
    // The first round's deadline counts from the process start, as a postStart hook's does from its exec.
    for (let deadline = createDeadline(hook.config.timeoutMs); !stop.signal.aborted; deadline = deadlineWithin(hook.config.timeoutMs, NEVER)) {
      try {
        await registerOnce(deadline);
        if (!stop.signal.aborted) state = 'registered';
        return;
      } catch (error) {
        if (stop.signal.aborted) return;
        if (!config.strict) {
          state = 'failed open';
          log.error({ err: error, id }, 'not registered within --timeout: /readyz answers 200 all the same (fail-open; --strict keeps it 503)');
          return;
        }
        log.error({ err: error, id, retryInMs: ROUND_PAUSE_MS }, 'not registered within --timeout; --strict: /readyz stays 503, trying again');
        await sleepWithin(ROUND_PAUSE_MS, deadlineWithin(ROUND_PAUSE_MS, stop.signal));
      }
    }
  }

  async function beat(): Promise<void> {
    const record = buildRecord(hook.pod, hook.config, 'ready');
    // A beat never outlasts its interval; a stop ends its retries but lets its request in flight be answered.
    const requestDeadline = deadlineWithin(config.heartbeatMs, NEVER);
    try {
      const result = await withRetry((given) => attempt(() => hook.backend.upsert(record, { ...given, signal: requestDeadline.signal })), {
        what: `heartbeat of record ${id}`,
        deadline: gated(requestDeadline),
        attemptTimeoutMs: hook.requestTimeoutMs,
        log,
      });
      log.debug({ id, result: result.detail }, 'heartbeat: record re-asserted');
    } catch (error) {
      if (!stop.signal.aborted) log.warn({ err: error, id }, 'heartbeat: the record could not be re-asserted; trying again at the next beat');
    } finally {
      liveness?.beat();
    }
  }

  async function beatUntilStopped(): Promise<void> {
    if (config.heartbeatMs === 0) return;
    liveness?.beat();
    for (let due = performance.now() + jittered(config.heartbeatMs); !stop.signal.aborted; due += jittered(config.heartbeatMs)) {
      const wait = Math.max(0, Math.ceil(due - performance.now()));
      await sleepWithin(wait, deadlineWithin(wait + 1, stop.signal));
      if (stop.signal.aborted) return;
      await beat();
      // Far behind (the CMDB slower than the interval): start counting again from now rather than beat back to back.
      if (performance.now() - due > config.heartbeatMs) due = performance.now();
    }
  }

  async function deregisterOnce(trigger: string): Promise<Deregistered> {
    stop.abort();
    const deadline = deadlineWithin(config.deregisterTimeoutMs, NEVER);
    // A write already sent is answered first, so the delete comes after it; at most half of the deadline for that.
    if (inFlight) {
      const settled = new AbortController();
      const half = Math.floor(deadline.remaining() / 2);
      await Promise.race([inFlight, sleepWithin(half, deadlineWithin(half, settled.signal))]);
      settled.abort();
    }
    state = 'deregistering';
    log.info({ id, trigger }, `deregistering (${trigger})`);
    const retire = hook.config.deregisterAction === 'retire';
    try {
      const result = await removeRecord(hook, context, deadline);
      return { ok: true, summary: `${describeRemoval({ id }, result, retire)}${drainNote(hook)} on ${trigger}` };
    } catch (error) {
      log.error({ err: error, id, trigger }, `not deregistered (${trigger})`);
      return { ok: false, summary: `FAILED to ${retire ? 'retire' : 'delete'} record ${id} on ${trigger}: ${error instanceof Error ? error.message : String(error)}` };
    } finally {
      state = 'deregistered';
    }
  }

  return {
    ready: () => {
      if (state === 'registered' || state === 'failed open') return { ok: true };
      return { ok: false, reason: state === 'registering' ? `record ${id} not written yet` : `record ${id} ${state}` };
    },
    live: () => liveness?.check() ?? { ok: true },
    async run() {
      await register();
      await beatUntilStopped();
    },
    deregister: (trigger) => (deregistering ??= deregisterOnce(trigger)),
  };
}
