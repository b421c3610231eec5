/**
 * The first list's pages, acted on as they come. A 2,000-pod start lists 4 pages of pods (about 0.7 s in npm run
 * bench); waiting for the last page before the first write costs a sync all of that. What a page holds is already
 * enough for creates and updates (a pod there is there, whatever the later pages say), so once the leader has the
 * CMDB's records listed it plans each page's pods alone, as a pod event is planned. What is gone can only be told
 * from the whole list: the first full pass, after the last page, plans retirements only (if every page went this way).
 *
 * The records are listed at start (start()), beside the pods' first page and the Lease, whether this replica leads
 * yet or not. Pages that come before it leads wait here, and are planned when it does; a replica that never leads
 * before the last page, a lost lead, or a records' listing that fails leaves the whole first pass to the full pass.
 */
import type { Pod } from './kube/pod-cache.ts';

export interface FirstPagesOptions {
  /** Lists the CMDB's records for the pages to be planned against (the reconciler's known records). */
  listRecords(): Promise<void>;
  /** Plans and writes one pod's creates and updates. */
  plan(pod: Pod): void;
  /** Told once when the records could not be listed: the full pass does it all, and says why if it fails too. */
  onFailure(error: unknown): void;
}

export class FirstPages {
  private readonly options: FirstPagesOptions;
  private waiting: Pod[] = [];
  private listing: Promise<boolean> | undefined;
  private chain: Promise<boolean> | undefined;
  private leading = false;
  private givenUp = false;

  constructor(options: FirstPagesOptions) {
    this.options = options;
  }

  /**
   * Lists the records, leader or not: the listing overlaps the pods' first page and the Lease's acquisition, ahead
   * of the later pages, whose parsing would hold its request back (npm run bench: ~200 ms when listed at the first
   * page).
   */
  start(): void {
    this.listing ??= this.options.listRecords().then(() => true, (error: unknown) => {
      this.options.onFailure(error);
      this.giveUp();
      return false;
    });
  }

  /** A page of the first list. */
  add(pods: Pod[]): void {
    if (this.givenUp) return;
    this.waiting.push(...pods);
    this.start();
    this.pump();
  }

  /** Whether this replica writes; losing the lead mid-list gives up (the full pass does it all). */
  lead(leading: boolean): void {
    if (!leading && this.chain) this.giveUp();
    this.leading = leading;
    this.pump();
  }

  /** After the last page: whether every pod of it was planned here, so the full pass writes only retirements. */
  async done(): Promise<boolean> {
    const planned = this.chain ? await this.chain : false;
    const all = planned && !this.givenUp && this.waiting.length === 0;
    this.giveUp();
    return all;
  }

  private pump(): void {
    if (!this.leading || this.givenUp || this.waiting.length === 0 || !this.listing) return;
    this.chain = (this.chain ?? this.listing).then((listed) => {
      if (!listed || this.givenUp) return false;
      const pods = this.waiting;
      this.waiting = [];
      for (const pod of pods) this.options.plan(pod);
      return true;
    });
  }

  private giveUp(): void {
    this.givenUp = true;
    this.waiting = [];
  }
}
