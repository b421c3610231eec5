/**
 * DELETE, with DeleteOptions from the body (or gracePeriodSeconds from the query) and graceful deletion of pods,
 * simplified (docs: concepts/workloads/pods/pod-lifecycle "Termination of Pods"; podStrategy.CheckGracefulDelete,
 * k8s.io/apiserver pkg/registry/generic/registry/store.go Delete):
 *   - preconditions.uid / preconditions.resourceVersion that do not match: 409 Conflict;
 *   - a pod with a grace period > 0 (the option, else spec.terminationGracePeriodSeconds, else 30) is only marked:
 *     metadata.deletionTimestamp = now + grace and deletionGracePeriodSeconds (a MODIFIED event); the kubelet's part,
 *     the final removal (a DELETED event), happens after `terminationDelayMs`, or when the test calls
 *     finishDeletion(); a pod that is not scheduled (no spec.nodeName) or has finished (Succeeded, Failed) goes at once;
 *     a second DELETE may shorten the grace period, not lengthen it; grace 0 removes at once (a force delete);
 *   - an object with finalizers is only marked, and goes when an update empties its finalizers;
 *   - the answer is the pod (ReturnDeletedObject) or, for other types, a Status of Success naming the object.
 */
import { PODS, type KubeObject } from './resources.ts';
import type { KubeStore } from './store.ts';
import { conflict, notFound } from './status.ts';
import { now, parseBody, type Target, type Writer } from './writes.ts';

interface DeleteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface DeleteResult {
  object: KubeObject;
  /** Still there, marked for deletion (a pod in its grace period, or an object with finalizers). */
  pending: boolean;
}

export function deleteObject(store: KubeStore, writer: Writer, target: Target, query: URLSearchParams, bodyText: string): DeleteResult {
  const { type, namespace, name } = target;
  const existing = store.get(type, namespace, name);
  if (!existing) throw notFound(type, name);
  const options = (bodyText.trim() ? parseBody(bodyText) : {}) as DeleteOptions;
  const fromQuery = query.get('gracePeriodSeconds');
  const asked = fromQuery !== null && /^-?\d+$/.test(fromQuery) ? Number(fromQuery) : options.gracePeriodSeconds;
  const { uid, resourceVersion } = options.preconditions ?? {};
  if (uid && uid !== existing.metadata.uid) throw conflict(type, name, `the UID in the precondition (${uid}) does not match the UID in record (${existing.metadata.uid ?? ''}). The object might have been deleted and then recreated`);
  if (resourceVersion && resourceVersion !== existing.metadata.resourceVersion) throw conflict(type, name, `the ResourceVersion in the precondition (${resourceVersion}) does not match the ResourceVersion in record (${existing.metadata.resourceVersion ?? ''}). The object might have been modified`);
  const grace = type === PODS ? podGrace(existing, asked) : 0;
  const meta = existing.metadata;
  const finalizers = (meta.finalizers ?? []).length > 0;
  if (grace === 0 && !finalizers) return { object: store.remove(type, namespace, name) ?? existing, pending: false };
  if (meta.deletionTimestamp && (meta.deletionGracePeriodSeconds ?? 0) <= grace) return { object: existing, pending: true };
  // deletionTimestamp: the time after which the object goes, now + grace (ObjectMeta docs).
  const marked: KubeObject = { ...existing, metadata: { ...meta, deletionTimestamp: now(grace), deletionGracePeriodSeconds: grace } };
  const stored = store.put(type, marked);
  const removed = writer.removeIfFinished(type, stored);
  return removed ? { object: removed, pending: false } : { object: stored, pending: true };
}

function podGrace(pod: KubeObject, asked: number | undefined): number {
  const spec = (pod.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const phase = ((pod.status ?? {}) as { phase?: string }).phase;
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  const grace = asked ?? pod.metadata.deletionGracePeriodSeconds ?? spec.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, grace);
}

/** The kubelet's final delete of a terminating pod (grace 0); undefined when the pod is not there. */
export function finishDeletion(store: KubeStore, writer: Writer, namespace: string, name: string): KubeObject | undefined {
  const pod = store.get(PODS, namespace, name);
  if (!pod) return undefined;
  if ((pod.metadata.finalizers ?? []).length === 0) return store.remove(PODS, namespace, name);
  const stored = store.put(PODS, { ...pod, metadata: { ...pod.metadata, deletionTimestamp: pod.metadata.deletionTimestamp ?? now(), deletionGracePeriodSeconds: 0 } });
  return writer.removeIfFinished(PODS, stored) ?? stored;
}
