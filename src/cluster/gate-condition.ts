/**
 * What the readiness gate reads of one pod, and the conditions it writes. A pod takes part only when its
 * spec.readinessGates lists `cmdb-hook.io/registered`: the kubelet then keeps the pod's Ready condition False until
 * that condition is True, a missing one counting as False (docs: concepts/workloads/pods/pod-lifecycle, "Pod readiness
 * gate"). Only the kubelet's own verdict counts as "containers ready": the ContainersReady condition, which it sets
 * True once every container's readiness probe has passed, with the time of that transition.
 */
import { formatDuration } from '../settings/duration.ts';
import type { Pod } from './kube/pod-cache.ts';
import type { PodCondition } from './kube/pod-status.ts';

export const GATE_CONDITION = 'cmdb-hook.io/registered';

export const hasGate = (pod: Pod): boolean => pod.spec?.readinessGates?.some((gate) => gate.conditionType === GATE_CONDITION) ?? false;

export const gateIsTrue = (pod: Pod): boolean => pod.status?.conditions?.some((condition) => condition.type === GATE_CONDITION && condition.status === 'True') ?? false;

/** Terminating or finished: the pod will not become Ready again, so its gate has nothing left to open. */
export const isOver = (pod: Pod): boolean => Boolean(pod.metadata?.deletionTimestamp) || pod.status?.phase === 'Succeeded' || pod.status?.phase === 'Failed';

/**
 * Whether every container is ready and, when the pod says, since when (ms since the epoch, on the kubelet's clock).
 * ContainersReady decides when the pod has it; a pod without it (an older or unusual writer) is ready when every
 * container status says ready, with no time known.
 */
export function containersReady(pod: Pod): { ready: false } | { ready: true; sinceMs: number | undefined } {
  const condition = pod.status?.conditions?.find((each) => each.type === 'ContainersReady');
  if (condition) {
    if (condition.status !== 'True') return { ready: false };
    const sinceMs = condition.lastTransitionTime ? Date.parse(String(condition.lastTransitionTime)) : Number.NaN;
    return { ready: true, sinceMs: Number.isFinite(sinceMs) ? sinceMs : undefined };
  }
  const statuses = pod.status?.containerStatuses ?? [];
  return statuses.length > 0 && statuses.every((status) => status.ready) ? { ready: true, sinceMs: undefined } : { ready: false };
}

export const registeredCondition = (): PodCondition => ({
  type: GATE_CONDITION,
  status: 'True',
  reason: 'CMDBRegistered',
  message: 'every record of this pod is written in the CMDB',
});

/** Fail open: the pod serves although the CMDB does not know it yet (the controller keeps trying to write it). */
export const unavailableCondition = (timeoutMs: number): PodCondition => ({
  type: GATE_CONDITION,
  status: 'True',
  reason: 'CMDBUnavailable',
  message: `the CMDB records of this pod were not written within ${formatDuration(timeoutMs)} (--gate-timeout) of its containers being ready; the gate opens anyway (--strict would keep it closed) and the controller keeps writing them`,
});

/** --strict: the pod stays out of Service endpoints until its records are written. */
export const pendingCondition = (timeoutMs: number): PodCondition => ({
  type: GATE_CONDITION,
  status: 'False',
  reason: 'CMDBPending',
  message: `the CMDB records of this pod are not written ${formatDuration(timeoutMs)} (--gate-timeout) after its containers became ready; --strict keeps the gate closed until they are`,
});

/** Two conditions that write the same thing. */
export const conditionKey = (condition: PodCondition): string => `${condition.status}\u0000${condition.reason ?? ''}\u0000${condition.message ?? ''}`;
