// One pass of the controller's pure core, as plan.test.ts drives it (not a test file itself): all the pods seen,
// the ones the selector picks, what the CMDB lists; desired state, then the plan.
import { desiredRecords, podPhases } from '../../src/cluster/desired-state.ts';
import type { Pod } from '../../src/cluster/kube/pod-cache.ts';
import type { OrphanClock } from '../../src/cluster/orphan-clock.ts';
import { liveOwnedIds, planPass, type Plan, type Policy } from '../../src/cluster/plan.ts';
import { identityFromApiPod } from '../../src/pod/from-api-pod.ts';
import { buildRecord, type CmdbRecord } from '../../src/pod/record.ts';

export const CLUSTER = 'prod-eu-1';
export const GRACE_MS = 5 * 60_000;
export const T0 = Date.parse('2026-12-01T10:00:00Z');

export interface PassInput {
  /** Every pod seen. */
  pods: readonly Pod[];
  /** The pods the label selector picks; default all. */
  selected?: readonly Pod[];
  listed: readonly CmdbRecord[];
  at?: number;
  policy?: Policy;
  clock?: OrphanClock;
  notListable?: string[];
  maxRetire?: number;
  /** A backend's CmdbBackend.comparable. */
  comparable?: (record: CmdbRecord) => CmdbRecord;
}

export function pass(input: PassInput): Plan {
  const now = new Date(input.at ?? T0);
  const existing = liveOwnedIds(input.listed, CLUSTER);
  const listedId = input.comparable ? (record: CmdbRecord) => (input.comparable as (record: CmdbRecord) => CmdbRecord)(record).id : undefined;
  const desired = desiredRecords({ pods: input.selected ?? input.pods, cluster: CLUSTER, existing, now, ...(listedId ? { listedId } : {}) });
  return planPass({
    cluster: CLUSTER,
    policy: input.policy ?? 'sync',
    desired,
    listed: input.listed,
    podPhases: podPhases(input.pods),
    notListable: input.notListable ?? [],
    orphanGraceMs: GRACE_MS,
    maxRetire: input.maxRetire ?? 10,
    now,
    ...(input.clock ? { clock: input.clock } : {}),
    ...(input.comparable ? { comparable: input.comparable } : {}),
  });
}

/** The record the controller writes for this pod's container, observed at `at`. */
export function written(pod: Pod, container = 'app', at = T0 - 3_600_000): CmdbRecord {
  return buildRecord(identityFromApiPod(pod), { cluster: CLUSTER, container, app: undefined, fields: {} }, 'ready', new Date(at));
}

/** What a plan does, as `<kind> <namespace>/<pod> <container>` lines. */
export const summary = (plan: Plan) => plan.actions.map(({ kind, record }) => `${kind} ${record.namespace}/${record.pod.name} ${record.container}`);
