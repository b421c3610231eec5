/**
 * When the planner first saw each record without a live pod, by record id: the grace before a retire counts from
 * there, not from the record's observedAt (a record written long ago whose pod vanished a second ago is not overdue).
 * It lives as long as the controller; a record whose pod is back, or that is no longer listed, leaves it.
 */
export class OrphanClock {
  private readonly firstMissing = new Map<string, number>();

  /** The time the record was first seen missing its pod; `now` when this is the first time. */
  missingSince(id: string, now: number): number {
    const seen = this.firstMissing.get(id);
    if (seen !== undefined) return seen;
    this.firstMissing.set(id, now);
    return now;
  }

  /**
   * Starts the clock of each live record whose pod `gone` says is gone (deleted, finished, or missing from a relist);
   * whether any was started or counting.
   */
  startWhere(records: ReadonlyMap<string, { state: string; podUid: string }>, gone: (podUid: string) => boolean, now = Date.now()): boolean {
    let started = false;
    for (const [id, record] of records) {
      if (record.state === 'terminated' || !gone(record.podUid)) continue;
      this.missingSince(id, now);
      started = true;
    }
    return started;
  }

  /** Forgets every record not in `missing` (its pod is back, it was retired, or it is no longer listed). */
  keepOnly(missing: ReadonlySet<string>): void {
    for (const id of this.firstMissing.keys()) if (!missing.has(id)) this.firstMissing.delete(id);
  }

  get size(): number {
    return this.firstMissing.size;
  }
}
