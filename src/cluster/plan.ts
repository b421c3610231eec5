/**
 * What one pass must do to make the CMDB match the pods: create, update or retire records, under the policy of
 * external-dns (`sync` does all three, `upsert-only` never retires, `create-only` only creates).
 *   - Ownership is checked on every listed record: only `agent.name` cmdb-hook and `cluster` this cluster. A record
 *     made by hand or by another cluster is never changed, even when its id is one this cluster wants.
 *   - update: only when a fact observed in Kubernetes differs (namespace, pod, node, app, labels, annotations, fields,
 *     state). observedAt and the agent's version are no such fact: rewriting for them would rewrite every record on
 *     every pass or upgrade.
 *   - retire: a live owned record whose pod UID is among no pod seen (selected or not: a pod outside the selector is
 *     not gone), or whose pod is Succeeded or Failed, for longer than `orphanGraceMs`, counted from when the clock
 *     first saw it so; without a clock (`--once`, no earlier observation) from its observedAt. Records in a namespace
 *     that could not be listed are never retired: their pods' absence says nothing. At most `maxRetire` per pass, the
 *     longest-missing first; the rest wait for the next pass.
 *   - safety: a pass whose due retirements are more than half of the cluster's live owned records (and more than
 *     one: a cluster of one pod can still retire its record) retires nothing and sets `retireBlocked`: so many pods
 *     vanishing at once is a lost node or a broken list, not a deploy.
 */
import { isDeepStrictEqual } from 'node:util';
import { AGENT_NAME } from '../version.ts';
import { withoutVersion, type CmdbRecord } from '../pod/record.ts';
import { FINISHED_PHASES } from './desired-state.ts';
import { ALL_NAMESPACES } from './kube/pod-cache.ts';
import type { OrphanClock } from './orphan-clock.ts';

export type Policy = 'sync' | 'upsert-only' | 'create-only';

export interface PlanInput {
  cluster: string;
  policy: Policy;
  /** desired-state.ts, built with `existing` = liveOwnedIds(listed). */
  desired: ReadonlyMap<string, CmdbRecord>;
  /** What the CMDB lists, whoever wrote it. */
  listed: readonly CmdbRecord[];
  /** Every pod seen, selected or not, by UID, with its phase (desired-state.ts podPhases). */
  podPhases: ReadonlyMap<string, string>;
  /** Namespaces that could not be listed (ALL_NAMESPACES: none could). */
  notListable: readonly string[];
  orphanGraceMs: number;
  maxRetire: number;
  now: Date;
  /** The controller's clock; absent for `--once`. */
  clock?: OrphanClock;
  /** What the CMDB keeps of a record, with the id list() gives (CmdbBackend.comparable); default: all of it. */
  comparable?: (record: CmdbRecord) => CmdbRecord;
}

export interface PlanAction {
  kind: 'create' | 'update' | 'retire';
  /** create, update: the desired record; retire: the listed one. */
  record: CmdbRecord;
  /** update: the facts that differ. */
  changed?: string[];
}

export interface Plan {
  actions: PlanAction[];
  /** Owned records whose pod is gone, not yet past the grace. */
  waiting: number;
  /** Due retirements left for a later pass by maxRetire. */
  capped: number;
  /** Desired ids held by a record this cluster does not own: left alone. */
  notOwned: string[];
  /** Set when the half rule stopped every retirement of this pass. */
  retireBlocked?: { due: number; owned: number };
}

/** The facts compared for an update: everything Kubernetes tells, nothing about when or by which version. */
export const FACTS = ['cluster', 'namespace', 'pod', 'container', 'node', 'app', 'labels', 'annotations', 'fields', 'state'] as const;

export function isOwned(record: CmdbRecord, cluster: string): boolean {
  return record.agent?.name === AGENT_NAME && record.cluster === cluster;
}

/** The ids desired-state.ts is to keep: owned by this cluster and not retired. */
export function liveOwnedIds(listed: readonly CmdbRecord[], cluster: string): Set<string> {
  return new Set(listed.filter((record) => isOwned(record, cluster) && record.state !== 'terminated').map((record) => record.id));
}

export function changedFacts(listed: CmdbRecord, desired: CmdbRecord): string[] {
  const [was, wanted] = [withoutVersion(listed), withoutVersion(desired)];
  return FACTS.filter((fact) => !isDeepStrictEqual(was[fact] ?? null, wanted[fact] ?? null));
}

export function planPass(input: PlanInput): Plan {
  const now = input.now.getTime();
  const byId = new Map(input.listed.map((record) => [record.id, record]));
  const plan: Plan = { actions: [], waiting: 0, capped: 0, notOwned: [] };

  const comparable = input.comparable ?? ((record: CmdbRecord) => record);
  const wanted = new Set<string>();
  for (const [id, record] of input.desired) {
    const view = comparable(record);
    wanted.add(view.id);
    const listed = byId.get(view.id);
    if (!listed) {
      plan.actions.push({ kind: 'create', record });
    } else if (!isOwned(listed, input.cluster)) {
      plan.notOwned.push(id);
    } else if (input.policy !== 'create-only') {
      const changed = changedFacts(comparable(listed), view);
      if (changed.length > 0) plan.actions.push({ kind: 'update', record, changed });
    }
  }

  const blind = new Set(input.notListable);
  const live = input.listed.filter((record) => isOwned(record, input.cluster) && record.state !== 'terminated');
  const missing = new Set<string>();
  const due: { record: CmdbRecord; since: number }[] = [];
  for (const record of live) {
    if (wanted.has(record.id) || blind.has(ALL_NAMESPACES) || blind.has(record.namespace)) continue;
    const phase = input.podPhases.get(record.pod?.uid);
    if (phase !== undefined && !FINISHED_PHASES.has(phase)) continue;
    missing.add(record.id);
    const since = input.clock ? input.clock.missingSince(record.id, now) : Date.parse(record.observedAt);
    // An observedAt that is no date counts as just seen: such a record is never retired on its word.
    if (Number.isNaN(since) || now - since <= input.orphanGraceMs) plan.waiting++;
    else due.push({ record, since });
  }
  input.clock?.keepOnly(missing);
  if (input.policy !== 'sync' || due.length === 0) return plan;

  if (due.length > 1 && due.length > live.length / 2) {
    plan.retireBlocked = { due: due.length, owned: live.length };
    return plan;
  }
  due.sort((a, b) => a.since - b.since || a.record.id.localeCompare(b.record.id));
  const allowed = Math.max(0, input.maxRetire);
  for (const { record } of due.slice(0, allowed)) plan.actions.push({ kind: 'retire', record });
  plan.capped = Math.max(0, due.length - allowed);
  return plan;
}
