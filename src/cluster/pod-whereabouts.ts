/**
 * Before a record is retired, its pod is looked up by name: the watch sees only the selected pods of the namespaces
 * given, and a pod that lost its label or sits in another namespace is not gone. The name is the record's, the
 * answer counts only when its uid is the record's (a StatefulSet's web-0 made again is another pod).
 */
import type { KubeClient } from './kube/api-client.ts';
import { KubeApiError } from './kube/kube-api-error.ts';
import type { Pod } from './kube/pod-cache.ts';
import { FINISHED_PHASES } from './desired-state.ts';
import type { CmdbRecord } from '../pod/record.ts';

export type Whereabouts = 'gone' | 'running';

export async function podWhereabouts(client: KubeClient, record: CmdbRecord, signal: AbortSignal): Promise<Whereabouts> {
  try {
    const pod = await client.request<Pod>({ path: `/api/v1/namespaces/${encodeURIComponent(record.namespace)}/pods/${encodeURIComponent(record.pod.name)}`, signal });
    return pod.metadata?.uid === record.pod.uid && !FINISHED_PHASES.has(pod.status?.phase ?? '') ? 'running' : 'gone';
  } catch (error) {
    if (error instanceof KubeApiError && error.status === 404) return 'gone';
    // 403 or a failure: nothing is known, so nothing is retired (the caller's queue tries again later).
    throw error;
  }
}
