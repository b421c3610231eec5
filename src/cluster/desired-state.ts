/**
 * Which records the cluster's pods call for, built with the hook's own builder (pod/record.ts):
 *   - a pod that is Running, has an IP and is not being deleted gives one record per selected container
 *     (pod/from-api-pod.ts) whose containerStatuses[].ready is true: what the hook registers once the app is ready;
 *   - a record already written (in `existing`) stays desired, with the pod's current facts, while its pod exists and
 *     is not Succeeded or Failed: a readiness flap or a container restart keeps the pod and its IP, so the record
 *     stays true;
 *   - a pod being deleted (deletionTimestamp) calls for nothing new, and its records are neither rewritten nor
 *     retired here: its preStop hook may be retiring them, and rewriting them `ready` would undo that. Retiring
 *     records whose pod is gone is the plan's job (plan.ts).
 */
import type { Pod } from './kube/pod-cache.ts';
import { identityFromApiPod, podSettings } from '../pod/from-api-pod.ts';
import { buildRecord, recordId, type CmdbRecord } from '../pod/record.ts';

/** The phases after which a pod never runs again (its containers will not restart). */
export const FINISHED_PHASES: ReadonlySet<string> = new Set(['Succeeded', 'Failed']);

export interface DesiredInput {
  pods: readonly Pod[];
  cluster: string;
  /** The controller's --field: under the pod's own cmdb-hook.io/field.<key> annotations. */
  fields?: Record<string, string>;
  /** Ids of the records known to exist (owned by this cluster and live), as list() gives them. */
  existing: { has(id: string): boolean };
  /** The id list() gives a record (CmdbBackend.comparable); default its own. */
  listedId?: (record: CmdbRecord) => string;
  now?: Date;
  /** Told of each pod whose cmdb-hook.io/ annotations name what is not there, as `<namespace>/<name>: <problem>`. */
  onProblem?: (problem: string) => void;
}

export function desiredRecords(input: DesiredInput): Map<string, CmdbRecord> {
  const now = input.now ?? new Date();
  const desired = new Map<string, CmdbRecord>();
  for (const pod of input.pods) {
    const uid = pod.metadata?.uid;
    if (!uid || pod.metadata?.deletionTimestamp || FINISHED_PHASES.has(pod.status?.phase ?? '')) continue;
    const identity = identityFromApiPod(pod);
    const settings = podSettings(pod);
    for (const problem of settings.problems) input.onProblem?.(`${identity.namespace}/${identity.name}: ${problem}`);
    const running = pod.status?.phase === 'Running' && identity.ip !== undefined;
    for (const container of settings.containers) {
      const id = recordId(uid, container);
      const ready = running && pod.status?.containerStatuses?.some((status) => status.name === container && status.ready === true) === true;
      const record = buildRecord(identity, { cluster: input.cluster, container, app: undefined, fields: input.fields ?? {} }, 'ready', now);
      if (!ready && !input.existing.has(input.listedId ? input.listedId(record) : id)) continue;
      desired.set(id, record);
    }
  }
  return desired;
}

/** Every pod seen (selected or not), by UID, with its phase: what the plan needs to tell a gone pod from a live one. */
export function podPhases(pods: readonly Pod[]): Map<string, string> {
  const phases = new Map<string, string>();
  for (const pod of pods) if (pod.metadata?.uid) phases.set(pod.metadata.uid, pod.status?.phase ?? '');
  return phases;
}

/**
 * The ids of every record the pods may hold and keep: one per selected container of each pod that lives on (not
 * finished, not being deleted), ready or not. A publisher's inventory sends these rather than the desired records:
 * a publisher that has not confirmed a record yet (started or took over while the container was not ready) does not
 * count it as desired, and an inventory missing it would make the consumer retire the record of a pod in the middle
 * of a readiness flap or a container restart.
 */
export function keptRecordIds(pods: readonly Pod[]): Set<string> {
  const ids = new Set<string>();
  for (const pod of pods) {
    const uid = pod.metadata?.uid;
    if (!uid || pod.metadata?.deletionTimestamp || FINISHED_PHASES.has(pod.status?.phase ?? '')) continue;
    for (const container of podSettings(pod).containers) ids.add(recordId(uid, container));
  }
  return ids;
}
