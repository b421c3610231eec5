/**
 * The readiness gate: for pods that list `cmdb-hook.io/registered` in spec.readinessGates, the controller sets that
 * condition on pods/status (gate-condition.ts says what, kube/pod-status.ts how), so such a pod turns Ready only once
 * the CMDB knows it, or once the wait has lasted too long.
 *   - registered: True, CMDBRegistered.
 *   - not registered `gateTimeoutMs` after the containers became ready (ContainersReady's lastTransitionTime, and never
 *     later than the gate's own first sight of them ready, so a skewed node clock cannot push it out): True,
 *     CMDBUnavailable (fail open: a CMDB outage must not leave a rollout stuck at 0/1 gates); with `strict`, False,
 *     CMDBPending, until a later registration sets True. A timer per pod fires at that moment, pod events or not.
 *   - True is final: a pod whose condition is True (written here or found) is never patched again, so it never goes
 *     back to False and a stale event cannot undo it.
 *   - at most `maxInFlight` patches at once, one per pod at a time (a newer state runs after the current patch); a
 *     transient failure (no answer, 429, 5xx) is tried again after a backoff, Retry-After honoured; a refusal is
 *     logged once and not tried again until the pod's wanted condition changes (as the work queue does).
 *   - a pod deleted, or made again under its name (the patch's uid precondition fails: `replaced`), is logged once and
 *     its uid dropped for good: a newcomer is never patched with its predecessor's state, it comes with its own uid.
 */
import type { Logger } from '../logger.ts';
import { timerMs } from '../settings/duration.ts';
import type { KubeClient } from './kube/api-client.ts';
import { createBackoff, type Backoff } from './kube/backoff.ts';
import { KubeApiError } from './kube/kube-api-error.ts';
import type { Pod } from './kube/pod-cache.ts';
import { setPodCondition, type PodCondition } from './kube/pod-status.ts';
import { conditionKey, containersReady, gateIsTrue, hasGate, isOver, pendingCondition, registeredCondition, unavailableCondition } from './gate-condition.ts';

export { GATE_CONDITION } from './gate-condition.ts';

export interface ReadinessGateOptions {
  client: KubeClient;
  /** --strict: never fail open, the condition stays False until the records are written. */
  strict: boolean;
  /** --gate-timeout (the command's default: 2m). */
  gateTimeoutMs: number;
  /** Stops timers and patches. */
  signal: AbortSignal;
  log: Logger;
  /** Told after each condition written, with the pod as the server answered (for Events and metrics). */
  onSet?: (pod: Pod, condition: PodCondition) => void;
  /** Patches in flight at most (default 4). */
  maxInFlight?: number;
  /** The first wait after a transient failure, doubling up to 30 s (default 500 ms). */
  retryDelayMs?: number;
}

export interface ReadinessGate {
  /** The pod's latest copy, and whether every record the controller wants for it is written in the CMDB. Called on every pod event and after writes. */
  update(pod: Pod, registered: boolean): void;
  /** The pod is gone (deleted): drop its timers and state. */
  forget(uid: string): void;
  /** Pods whose gate is still not True, for a metric. */
  pending(): number;
}

interface Entry {
  pod: Pod;
  registered: boolean;
  /** The gate's own first sight of the containers ready, in this stretch of readiness (ms, this process's clock). */
  seenReadyAt: number | undefined;
  deadline: number | undefined;
  timer: NodeJS.Timeout | undefined;
  retry: NodeJS.Timeout | undefined;
  backoff: Backoff;
  /** The last condition written or found for this uid, and the last one refused for good. */
  written: string | undefined;
  refused: string | undefined;
  inFlight: boolean;
  again: boolean;
}

// uids whose gate is True, and uids dropped for good (replaced or gone), until forget(); each set bounded (oldest
// out first) against a caller that never hears of some deletion. A uid let out early is met again as a new pod: its
// latest copy says True, or the server refuses a patch for its uid.
const MAX_REMEMBERED = 50_000;
// Node's timers hold at most 2^31-1 ms (a longer delay fires at once): a longer --gate-timeout re-arms on the way.
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createReadinessGate(options: ReadinessGateOptions): ReadinessGate {
  const { client, strict, gateTimeoutMs, signal, log } = options;
  const maxInFlight = Math.max(1, options.maxInFlight ?? 4);
  const entries = new Map<string, Entry>();
  const opened = new Set<string>();
  const dropped = new Set<string>();
  const waiting = new Set<string>();
  let inFlight = 0;

  const stopDeadline = (entry: Entry) => {
    clearTimeout(entry.timer);
    entry.timer = entry.deadline = undefined;
  };
  const drop = (uid: string) => {
    const entry = entries.get(uid);
    if (entry) {
      stopDeadline(entry);
      clearTimeout(entry.retry);
    }
    entries.delete(uid);
    waiting.delete(uid);
  };
  const unref = (timer: NodeJS.Timeout) => {
    timer.unref();
    return timer;
  };
  signal.addEventListener('abort', () => [...entries.keys()].forEach(drop), { once: true });

  /** The condition this pod should have now, arming the timeout timer while it is not due yet. */
  function wanted(uid: string, entry: Entry, now: number): PodCondition | undefined {
    if (entry.registered) {
      stopDeadline(entry);
      return registeredCondition();
    }
    const containers = containersReady(entry.pod);
    if (!containers.ready) {
      stopDeadline(entry);
      entry.seenReadyAt = undefined;
      return undefined;
    }
    entry.seenReadyAt ??= now;
    const deadline = Math.min(containers.sinceMs ?? entry.seenReadyAt, entry.seenReadyAt) + gateTimeoutMs;
    if (now >= deadline) return strict ? pendingCondition(gateTimeoutMs) : unavailableCondition(gateTimeoutMs);
    if (entry.deadline !== deadline) {
      clearTimeout(entry.timer);
      entry.deadline = deadline;
      entry.timer = unref(setTimeout(() => {
        entry.timer = entry.deadline = undefined;
        schedule(uid);
      }, Math.min(timerMs(deadline - now), MAX_TIMER_MS)));
    }
    return undefined;
  }

  function schedule(uid: string): void {
    const entry = entries.get(uid);
    if (!entry || signal.aborted) return;
    if (entry.inFlight) {
      entry.again = true;
      return;
    }
    // A retry is already due: it takes the latest state when it runs.
    if (entry.retry) return;
    const condition = wanted(uid, entry, Date.now());
    if (!condition || conditionKey(condition) === entry.written || conditionKey(condition) === entry.refused) return;
    waiting.add(uid);
    pump();
  }

  function pump(): void {
    for (const uid of waiting) {
      if (inFlight >= maxInFlight || signal.aborted) return;
      waiting.delete(uid);
      const entry = entries.get(uid);
      if (entry && !entry.inFlight) void write(uid, entry);
    }
  }

  async function write(uid: string, entry: Entry): Promise<void> {
    const condition = wanted(uid, entry, Date.now());
    if (!condition) return;
    const key = conditionKey(condition);
    if (key === entry.written || key === entry.refused) return;
    entry.inFlight = true;
    inFlight += 1;
    const where = { namespace: entry.pod.metadata?.namespace, pod: entry.pod.metadata?.name, uid };
    try {
      const result = await setPodCondition(client, entry.pod, condition, { signal });
      entry.backoff.reset();
      // forget() or a copy with the gate True may have come meanwhile: then the uid's state is not ours to record.
      const current = entries.get(uid) === entry;
      if (result.outcome === 'replaced') {
        log.info({ ...where, status: result.status }, `readiness gate: ${result.message}; its condition is not set`);
        if (current) {
          drop(uid);
          remember(dropped, uid);
        }
        return;
      }
      entry.written = key;
      if (condition.status === 'True' && current) {
        drop(uid);
        remember(opened, uid);
      }
      if (result.outcome === 'unchanged') return;
      const level = condition.reason === 'CMDBRegistered' ? 'debug' : 'warn';
      log[level]({ ...where, condition: condition.type, status: condition.status, reason: condition.reason }, `readiness gate: ${condition.message ?? ''}`);
      try {
        options.onSet?.(result.pod, condition);
      } catch (error) {
        log.error({ ...where, err: error }, 'readiness gate: the onSet callback failed');
      }
    } catch (error) {
      if (signal.aborted) return;
      if (error instanceof KubeApiError && error.transient) {
        const delayMs = entry.backoff.next(error.retryAfterMs);
        log.debug({ ...where, err: error, retryInMs: Math.round(delayMs) }, 'readiness gate: setting the condition failed; trying again');
        entry.retry = unref(setTimeout(() => {
          entry.retry = undefined;
          schedule(uid);
        }, timerMs(delayMs)));
      } else {
        entry.refused = key;
        log.error({ ...where, err: error }, `readiness gate: setting ${condition.type}=${condition.status} was refused; not tried again until the pod's state changes`);
      }
    } finally {
      entry.inFlight = false;
      inFlight -= 1;
      if (entry.again && entries.get(uid) === entry) {
        entry.again = false;
        schedule(uid);
      }
      pump();
    }
  }

  function remember(set: Set<string>, uid: string): void {
    set.add(uid);
    if (set.size > MAX_REMEMBERED) set.delete(set.values().next().value ?? uid);
  }

  return {
    update(pod, registered) {
      const uid = pod.metadata?.uid;
      if (!uid || signal.aborted || opened.has(uid) || dropped.has(uid) || !hasGate(pod)) return;
      if (gateIsTrue(pod)) {
        drop(uid);
        remember(opened, uid);
        return;
      }
      if (isOver(pod)) return drop(uid);
      const entry = entries.get(uid);
      if (entry) {
        entry.pod = pod;
        entry.registered = registered;
      } else {
        entries.set(uid, { pod, registered, seenReadyAt: undefined, deadline: undefined, timer: undefined, retry: undefined, backoff: createBackoff({ initialMs: options.retryDelayMs ?? 500 }), written: undefined, refused: undefined, inFlight: false, again: false });
      }
      schedule(uid);
    },
    forget(uid) {
      drop(uid);
      opened.delete(uid);
      dropped.delete(uid);
    },
    pending: () => entries.size,
  };
}
