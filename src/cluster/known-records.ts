/**
 * What the controller keeps of each record between full passes: not the record (its labels and annotations are most
 * of a pod's slim size again, ~10,000 of them held for the process's life), but what a pod event needs to plan that
 * pod alone: whose record it is, whether it is live, and one 30-bit digest per fact compared for an update
 * (plan.ts FACTS). A full pass has the whole listing in hand and compares the records themselves (plan.ts
 * changedFacts); between passes a fact counts as changed when its digest differs. Two different values with the same
 * digest (a chance of 2^-30 per changed fact) leave that update to the next full pass, which compares the records.
 */
import { AGENT_NAME } from '../version.ts';
import type { CmdbRecord } from '../pod/record.ts';
import { FACTS, type PlanAction, type Policy } from './plan.ts';

export interface KnownRecord {
  readonly podUid: string;
  /** Written by cmdb-hook for this cluster (plan.ts isOwned). */
  readonly owned: boolean;
  readonly state: string;
  /** One digest per fact of plan.ts FACTS, in that order, of the record as the CMDB keeps it (comparable). */
  readonly facts: readonly number[];
}

/** `record` is as listed or as written; `view` is what the CMDB keeps of it (CmdbBackend.comparable). */
export function knownRecord(record: CmdbRecord, cluster: string, view: CmdbRecord = record): KnownRecord {
  return {
    podUid: record.pod?.uid,
    owned: record.agent?.name === AGENT_NAME && record.cluster === cluster,
    state: record.state,
    facts: factDigests(view),
  };
}

export function isLiveKnown(known: KnownRecord | undefined): known is KnownRecord {
  return known !== undefined && known.owned && known.state !== 'terminated';
}

export function factDigests(record: CmdbRecord): number[] {
  return FACTS.map((fact) => digest(canonical(record[fact] ?? null)));
}

/**
 * One pod's plan between passes: create what is not known, update an owned record whose facts' digests differ,
 * leave alone a record this cluster does not own. Never retires (a full pass does, with the listing in hand).
 * `desired` and `comparable` as for plan.ts planPass.
 */
export function planAgainstKnown(desired: ReadonlyMap<string, CmdbRecord>, known: ReadonlyMap<string, KnownRecord>, policy: Policy, comparable: (record: CmdbRecord) => CmdbRecord): PlanAction[] {
  const actions: PlanAction[] = [];
  for (const record of desired.values()) {
    const view = comparable(record);
    const listed = known.get(view.id);
    if (!listed) {
      actions.push({ kind: 'create', record });
    } else if (listed.owned && policy !== 'create-only') {
      const facts = factDigests(view);
      const changed = FACTS.filter((_, index) => facts[index] !== listed.facts[index]);
      if (changed.length > 0) actions.push({ kind: 'update', record, changed });
    }
  }
  return actions;
}

/**
 * A value as one string, the same for values isDeepStrictEqual calls equal: object keys sorted (a CMDB may give
 * them back in another order), array order kept, undefined told apart from null.
 */
function canonical(value: unknown): string {
  if (value === undefined) return 'u';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  const entries = Object.keys(value).sort().map((key) => `${JSON.stringify(key)}:${canonical((value as Record<string, unknown>)[key])}`);
  return `{${entries.join(',')}}`;
}

/** FNV-1a over the UTF-16 code units, cut to 30 bits so that V8 keeps it as a small integer in any build. */
function digest(text: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < text.length; index++) {
    hash ^= text.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 2;
}
