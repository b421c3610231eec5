/**
 * A pod as the controller sees it (the API object) turned into what the hook reads from the Downward API, and which
 * of its containers get records. buildRecord (record.ts) then gives the same record either way, observedAt aside.
 */
import type { IPod } from 'kubernetes-models/v1/Pod';
import type { PodIdentity } from './identity.ts';
import { withoutKubeletAnnotations } from './kubelet-annotations.ts';
import { ANNOTATIONS } from './pod-annotations.ts';


/**
 * The Downward API's values, taken from the object the kubelet resolves them from: metadata.name, .uid, .namespace,
 * .labels, .annotations; status.podIP(s), .hostIP; spec.nodeName. POD_IPS is status.podIPs joined, and the hook falls
 * back from one to the other, as here.
 */
export function identityFromApiPod(pod: IPod): PodIdentity {
  const metadata = pod.metadata ?? {};
  const listed = (pod.status?.podIPs ?? []).map((entry) => entry.ip?.trim() ?? '').filter(Boolean);
  const ip = pod.status?.podIP?.trim() || undefined;
  const ips = listed.length > 0 ? listed : ip ? [ip] : [];
  return {
    name: metadata.name ?? '',
    uid: metadata.uid ?? '',
    namespace: metadata.namespace ?? '',
    ip: ip ?? ips[0],
    ips,
    nodeName: pod.spec?.nodeName?.trim() || undefined,
    hostIp: pod.status?.hostIP?.trim() || undefined,
    labels: { ...metadata.labels },
    annotations: withoutKubeletAnnotations(metadata.annotations ?? {}),
    notes: [],
  };
}

/** Which containers of the pod get records (`cmdb-hook.io/containers`; default every regular container). */
export interface PodSettings {
  /** The containers to keep records of, in spec order. */
  containers: string[];
  /** Annotation values that name no container of the pod, for a warning. */
  problems: string[];
}

export function podSettings(pod: IPod): PodSettings {
  const annotations = pod.metadata?.annotations ?? {};
  // Regular containers only: init and ephemeral containers are not the app and have no postStart hook of their own.
  const regular = (pod.spec?.containers ?? []).map((container) => container.name);
  const problems: string[] = [];
  let containers = regular;
  const named = annotations[ANNOTATIONS.containers];
  if (named !== undefined) {
    const wanted = new Set(named.split(',').map((entry) => entry.trim()).filter(Boolean));
    for (const name of wanted) if (!regular.includes(name)) problems.push(`${ANNOTATIONS.containers} names ${JSON.stringify(name)}, which is no container of the pod`);
    containers = regular.filter((name) => wanted.has(name));
  }
  return { containers, problems };
}
