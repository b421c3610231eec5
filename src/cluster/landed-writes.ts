/**
 * The writes that land while a full pass lists the CMDB. A listing is a snapshot taken page by page over a second or
 * more, and the work queue keeps writing meanwhile: a record written after its page was read is missing from the
 * listing (or shown as it was), and a plan made from it would write that record again. So the pass lays what landed
 * during its listing over what the listing shows. A write still in flight when the plan is made needs nothing here:
 * the work queue drops a state equal to the one it is writing.
 */
import type { CmdbRecord } from '../pod/record.ts';

export class LandedWrites {
  /** One per listing under way, by the id list() gives: the record as the CMDB now keeps it, or undefined once removed. */
  private readonly active = new Set<Map<string, CmdbRecord | undefined>>();

  /** Runs one listing, and lays over it what landed while it ran. */
  async around(list: () => Promise<CmdbRecord[]>): Promise<CmdbRecord[]> {
    const landed = new Map<string, CmdbRecord | undefined>();
    this.active.add(landed);
    let records: CmdbRecord[];
    try {
      records = await list();
    } finally {
      this.active.delete(landed);
    }
    if (landed.size === 0) return records;
    const byId = new Map(records.map((record) => [record.id, record]));
    for (const [id, record] of landed) {
      if (record) byId.set(id, record);
      else byId.delete(id);
    }
    return [...byId.values()];
  }

  /** A write that landed: `record` in the listing's form, or undefined for a record removed. */
  add(id: string, record: CmdbRecord | undefined): void {
    for (const landed of this.active) landed.set(id, record);
  }
}
