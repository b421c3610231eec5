import { hostname } from 'node:os';

/**
 * Who this controller instance is, for the Lease's holderIdentity and an Event's reportingInstance: POD_NAME (from
 * the Downward API), else the host name, which in a pod is the pod's name as well. Stable across container restarts
 * of the same pod, so a restarted leader takes its own lease back at once instead of waiting it out.
 */
export function identityFromEnv(env: NodeJS.ProcessEnv = process.env): string {
  return env.POD_NAME?.trim() || hostname();
}
