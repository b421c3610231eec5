/**
 * How long the controller leaves a pod's records to the pod's own hook. A pod that registers itself
 * (registers-itself.ts) writes its records the moment its app is ready; a controller writing them too would double
 * every write of a rollout. So for HOOK_GRACE_MS after its containers turned ready, the controller does not create
 * them; the pass after the grace lists the CMDB and writes what the hook did not (a postStart that failed open).
 * Ready since: the ContainersReady condition's time, or when this controller first saw the pod, whichever is later
 * (a controller that just started gives the hooks their grace too).
 */
import type { Pod } from './kube/pod-cache.ts';
import { registersItself } from './registers-itself.ts';

export const HOOK_GRACE_MS = 30_000;

/** Milliseconds left of the pod's hook grace; 0 or less when the controller may write. */
export function hookGraceLeft(pod: Pod, firstSeenMs: number | undefined, nowMs: number): number {
  if (!registersItself(pod)) return 0;
  const condition = pod.status?.conditions?.find((each) => each.type === 'ContainersReady' && each.status === 'True');
  const since = Math.max(Date.parse(condition?.lastTransitionTime ?? '') || 0, firstSeenMs ?? 0);
  return since + HOOK_GRACE_MS - nowMs;
}
