/**
 * Sets one condition on a pod's status (e.g. a readiness gate's `example.com/cmdb-registered`), as the kubelet and
 * controllers do: a strategic merge patch of `pods/<name>/status`, where status.conditions merge by `type`
 * (patchMergeKey in k8s.io/api core/v1 types.go), so the kubelet's own conditions (Ready, ContainersReady, ...) are
 * left alone and no resourceVersion race with the kubelet can fail it.
 *
 * The patch carries the pod's metadata.uid: a pod deleted and made again under the same name (a StatefulSet's
 * web-0) has another uid, and the server refuses the patch with 422 "metadata.uid: field is immutable"
 * (apimachinery ValidateObjectMetaUpdate); a pod that is gone answers 404. Both come back as `replaced`, so the
 * caller never marks the newcomer with its predecessor's state.
 *
 * lastTransitionTime changes only when the status does (API conventions, "typical status properties"); an identical
 * condition (status, reason, message) is not written again.
 */
import type { KubeClient } from './api-client.ts';
import { KubeApiError } from './kube-api-error.ts';
import type { Pod } from './pod-cache.ts';

export interface PodCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
}

export type ConditionResult = { outcome: 'patched'; pod: Pod } | { outcome: 'unchanged' } | { outcome: 'replaced'; status: 404 | 422; message: string };

export interface SetConditionOptions {
  signal?: AbortSignal;
  /** Recorded in managedFields (default cmdb-hook-controller). */
  fieldManager?: string;
}

/** `pod` is the controller's latest copy: its namespace, name and uid, and its conditions (to keep transition times). */
export async function setPodCondition(client: KubeClient, pod: Pod, condition: PodCondition, options: SetConditionOptions = {}): Promise<ConditionResult> {
  const { namespace, name, uid } = pod.metadata ?? {};
  if (!namespace || !name || !uid) throw new Error('setPodCondition needs the pod\'s namespace, name and uid');
  const known = pod.status?.conditions?.find((each) => each.type === condition.type);
  if (known && known.status === condition.status && (known.reason ?? '') === (condition.reason ?? '') && (known.message ?? '') === (condition.message ?? '')) return { outcome: 'unchanged' };
  const lastTransitionTime = known?.status === condition.status && known.lastTransitionTime ? known.lastTransitionTime : new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const patch = { metadata: { uid }, status: { conditions: [{ ...condition, lastTransitionTime }] } };
  try {
    const patched = await client.request<Pod>({
      method: 'PATCH',
      path: `/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(name)}/status`,
      query: { fieldManager: options.fieldManager ?? 'cmdb-hook-controller' },
      contentType: 'application/strategic-merge-patch+json',
      body: patch,
      ...(options.signal ? { signal: options.signal } : {}),
    });
    return { outcome: 'patched', pod: patched };
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return { outcome: 'replaced', status: 404, message: `pod ${namespace}/${name} (uid ${uid}) is gone` };
    if (error instanceof KubeApiError && error.status === 422 && error.causes.some((cause) => cause.field === 'metadata.uid')) {
      return { outcome: 'replaced', status: 422, message: `pod ${namespace}/${name} is no longer uid ${uid}: it was deleted and made again` };
    }
    throw error;
  }
}
