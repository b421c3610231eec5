import { AGENT_NAME, VERSION } from '../version.ts';
import type { PodIdentity } from './identity.ts';
import { annotatedSettings } from './pod-annotations.ts';

/** The record of protocol v1. Its top-level names are a public contract. */
export interface CmdbRecord {
  id: string;
  cluster: string;
  namespace: string;
  /**
   * `resourceVersion`: the pod object's `metadata.resourceVersion` the record was derived from, written by `consume`
   * only (hooks cannot see it). A consumer that takes the queue over reads it back so that it never writes an older
   * transition over a newer one. No fact: no comparison looks at it (withoutVersion).
   */
  pod: { name: string; uid: string; ip: string | null; ips: string[]; resourceVersion?: string };
  container: string;
  node: { name: string | null; ip: string | null };
  app: string | null;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  fields: Record<string, string>;
  state: 'ready' | 'terminated';
  observedAt: string;
  agent: { name: string; version: string };
}

/** The record without `pod.resourceVersion`, for comparisons: a pod version is when, not what. */
export function withoutVersion(record: CmdbRecord): CmdbRecord {
  if (record.pod?.resourceVersion === undefined) return record;
  const { resourceVersion: _resourceVersion, ...pod } = record.pod;
  return { ...record, pod };
}

/**
 * One id per container incarnation: pod UIDs are never reused (names and IPs are), and a container restarted inside
 * the same pod keeps its id. `_` appears in neither a UID nor a container name, so the id splits back unambiguously.
 */
export function recordId(podUid: string, container: string): string {
  return `${podUid}_${container}`;
}

/** What the record takes from the settings rather than from the pod. */
export interface RecordSettings {
  cluster: string;
  container: string;
  app: string | undefined;
  fields: Record<string, string>;
}

/**
 * The record of one container. The pod's `cmdb-hook.io/app` and `cmdb-hook.io/field.<key>` annotations win over the
 * settings' app and fields, for the hooks and the controller alike.
 */
export function buildRecord(pod: PodIdentity, config: RecordSettings, state: CmdbRecord['state'], now = new Date()): CmdbRecord {
  const annotated = annotatedSettings(pod.annotations);
  return {
    id: recordId(pod.uid, config.container),
    cluster: config.cluster,
    namespace: pod.namespace,
    pod: { name: pod.name, uid: pod.uid, ip: pod.ip ?? null, ips: pod.ips },
    container: config.container,
    node: { name: pod.nodeName ?? null, ip: pod.hostIp ?? null },
    app: annotated.app ?? config.app ?? pod.labels['app.kubernetes.io/name'] ?? pod.labels.app ?? null,
    labels: pod.labels,
    annotations: pod.annotations,
    fields: { ...config.fields, ...annotated.fields },
    state,
    observedAt: now.toISOString(),
    agent: { name: AGENT_NAME, version: VERSION },
  };
}
