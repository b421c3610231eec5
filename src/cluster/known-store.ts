/**
 * The records the controller knows between full passes: the last listing, moved on by its own writes, each kept slim
 * (known-records.ts). A listing replaces them, with what the writer landed while it ran laid over it
 * (landed-writes.ts), so neither a pod event nor the pass that listed plans a write that already landed.
 */
import type { CmdbRecord } from '../pod/record.ts';
import { isLiveKnown, knownRecord, type KnownRecord } from './known-records.ts';
import { LandedWrites } from './landed-writes.ts';
import type { PlanAction } from './plan.ts';

export interface KnownStoreOptions {
  cluster: string;
  /** What the CMDB keeps of a record, with the id list() gives (CmdbBackend.comparable). */
  comparable?: (record: CmdbRecord) => CmdbRecord;
  /** The pod's own copy of a uid's text, when the pod is seen: 10,000 records would otherwise hold 10,000 more. */
  sharedUid(uid: string): string | undefined;
}

export class KnownStore {
  readonly byId = new Map<string, KnownRecord>();
  private readonly options: KnownStoreOptions;
  private readonly landed = new LandedWrites();
  /** Listings started, and the start number of the one known: an older listing that ends later is not kept. */
  private started = 0;
  private shown = 0;

  constructor(options: KnownStoreOptions) {
    this.options = options;
  }

  /** Lists through `list`, lays over it what landed meanwhile, and knows the result; returns it for the plan. */
  async relist(list: () => Promise<CmdbRecord[]>): Promise<CmdbRecord[]> {
    const number = ++this.started;
    const records = await this.landed.around(list);
    // The start-up listing and the first full pass's can overlap (a replica that did not lead before the last page).
    if (number < this.shown) return records;
    this.shown = number;
    this.byId.clear();
    for (const record of records) this.byId.set(record.id, this.slim(record));
    return records;
  }

  /** A write the writer made: the records known move on with it. */
  written(action: PlanAction, removed: boolean): void {
    if (action.kind !== 'retire') {
      const listed = this.view(action.record);
      this.byId.set(listed.id, this.slim(action.record));
      this.landed.add(listed.id, listed);
    } else if (removed) {
      this.byId.delete(action.record.id);
      this.landed.add(action.record.id, undefined);
    } else {
      const retired = { ...action.record, state: 'terminated' as const };
      this.byId.set(action.record.id, this.slim(retired));
      this.landed.add(action.record.id, retired);
    }
  }

  /** The id under which list() gives the record. */
  listedId(record: CmdbRecord): string {
    return this.view(record).id;
  }

  isLive(id: string): boolean {
    return isLiveKnown(this.byId.get(id));
  }

  /** Whether the record is in the CMDB and not retired (whoever owns it). */
  holds(record: CmdbRecord): boolean {
    const known = this.byId.get(this.listedId(record));
    return known !== undefined && known.state !== 'terminated';
  }

  liveCount(): number {
    let live = 0;
    for (const known of this.byId.values()) if (isLiveKnown(known)) live++;
    return live;
  }

  private view(record: CmdbRecord): CmdbRecord {
    return this.options.comparable ? this.options.comparable(record) : record;
  }

  private slim(record: CmdbRecord): KnownRecord {
    const known = knownRecord(record, this.options.cluster, this.view(record));
    const uid = this.options.sharedUid(known.podUid);
    return uid ? { ...known, podUid: uid } : known;
  }
}
