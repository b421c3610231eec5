/**
 * The consumer's side of the inventory: once every chunk of one full pass of a publisher arrived, the CMDB's records
 * of the cluster are listed and those whose pod is in no inventory id are retired, with the controller's rules
 * (plan.ts): the grace counts from the first inventory that missed the record (--orphan-grace), at most --max-retire
 * per inventory, and none when more than half of the cluster's records would go. What a lost message left behind
 * is cleaned up this way, never what the inventory could not know of:
 *   - a record is matched by its pod uid, so every backend's listed ids work (ServiceNow lists `<pod uid>_*`);
 *   - a record observed at or after the pass started is kept (its registration overtook the inventory);
 *   - an inventory older than one already applied is ignored (a late redelivery);
 *   - an inventory from a publisher with --namespace names its namespaces, and only their records are compared with
 *     it (the other namespaces' records are no more missing than their pods); its grace clock, its half rule and
 *     its "older than" are its own, apart from those of inventories of other namespaces.
 * Chunks are kept in this process only: with several consumer replicas, a pass whose chunks went to different
 * replicas is acted on by none, and the next pass tries again.
 */
import type { CmdbBackend } from '../../cmdb/backend.ts';
import { OrphanClock } from '../../cluster/orphan-clock.ts';
import { planPass } from '../../cluster/plan.ts';
import { listRecords } from '../../cluster/record-listing.ts';
import type { Logger } from '../../logger.ts';
import type { CmdbRecord } from '../../pod/record.ts';
import type { InventoryData } from '../inventory.ts';

export interface InventoryRetirerOptions {
  cluster: string;
  orphanGraceMs: number;
  maxRetire: number;
  backend(): CmdbBackend;
  attemptTimeoutMs: number;
  signal: AbortSignal;
  log: Logger;
}

/** A pass's chunks not all seen within this are dropped: memory stays bounded whatever the broker delivers. */
const INCOMPLETE_KEPT_MS = 10 * 60_000;
const LISTING_MS = 5 * 60_000;

/** When the pass started: inventory.ts names a pass `<start time in ms, base 36>-<publisher digest>`. */
export function passStartedAt(pass: string): number {
  const head = pass.split('-')[0] ?? '';
  return /^[0-9a-z]{1,12}$/.test(head) ? Number.parseInt(head, 36) : Number.NaN;
}

export class InventoryRetirer {
  readonly #options: InventoryRetirerOptions;
  readonly #passes = new Map<string, { total: number; parts: Map<number, string[]>; firstAt: number }>();
  /** Per scope (the inventory's namespaces, "" for every namespace): its orphan clock and its newest pass applied. */
  readonly #scopes = new Map<string, { clock: OrphanClock; newest: number }>();

  constructor(options: InventoryRetirerOptions) {
    this.#options = options;
  }

  /** Takes one chunk; once its pass is whole, the records to retire now (none before). Throws what the listing threw. */
  async take(chunk: InventoryData): Promise<CmdbRecord[]> {
    const { log } = this.#options;
    const now = Date.now();
    for (const [pass, entry] of this.#passes) if (now - entry.firstAt > INCOMPLETE_KEPT_MS) this.#passes.delete(pass);
    const entry = this.#passes.get(chunk.pass) ?? { total: chunk.total, parts: new Map<number, string[]>(), firstAt: now };
    this.#passes.set(chunk.pass, entry);
    entry.parts.set(chunk.index, chunk.ids);
    if (entry.parts.size < entry.total) return [];
    const startedAt = passStartedAt(chunk.pass);
    const namespaces = chunk.namespaces ?? [];
    const scopeKey = [...namespaces].sort().join(',');
    const scope = this.#scopes.get(scopeKey) ?? { clock: new OrphanClock(), newest: 0 };
    if (!(startedAt >= scope.newest)) {
      this.#passes.delete(chunk.pass);
      log.debug({ pass: chunk.pass }, 'an inventory older than one already applied: ignored');
      return [];
    }
    const live = new Set([...entry.parts.values()].flat().map((id) => id.slice(0, id.indexOf('_'))));
    const listing = await listRecords(this.#options.backend(), { cluster: this.#options.cluster, signal: this.#options.signal, log, attemptTimeoutMs: this.#options.attemptTimeoutMs, withinMs: LISTING_MS });
    // Only now is the pass done: a failed listing leaves its chunks here for the redelivery.
    this.#passes.delete(chunk.pass);
    scope.newest = startedAt;
    this.#scopes.set(scopeKey, scope);
    const records = namespaces.length > 0 ? listing.records.filter((record) => namespaces.includes(record.namespace)) : listing.records;
    const kept = (record: CmdbRecord) => live.has(record.pod?.uid) || !(Date.parse(record.observedAt) < startedAt);
    const desired = new Map(records.filter(kept).map((record) => [record.id, record]));
    const plan = planPass({
      cluster: this.#options.cluster,
      policy: 'sync',
      desired,
      listed: records,
      podPhases: new Map(),
      notListable: [],
      orphanGraceMs: this.#options.orphanGraceMs,
      maxRetire: this.#options.maxRetire,
      now: new Date(),
      // The clock's first sighting counts as just now, which a grace of 0 would still wait for: without it, a
      // record is due as soon as an inventory misses it (its observedAt is before the pass, see kept()).
      ...(this.#options.orphanGraceMs > 0 ? { clock: scope.clock } : {}),
    });
    if (plan.retireBlocked) log.error(plan.retireBlocked, `inventory ${chunk.pass}: ${plan.retireBlocked.due} of ${plan.retireBlocked.owned} owned records are missing from it, more than half; nothing retired`);
    if (plan.capped > 0) log.warn({ capped: plan.capped }, `inventory ${chunk.pass}: ${plan.capped} retirements held back by --max-retire until the next inventory`);
    const due = plan.actions.filter((action) => action.kind === 'retire').map((action) => action.record);
    log.info({ pass: chunk.pass, ids: live.size, records: records.length, ...(namespaces.length > 0 ? { namespaces } : {}), due: due.length, waiting: plan.waiting }, `inventory ${chunk.pass} complete: ${due.length} record(s) to retire`);
    return due;
  }
}
