/**
 * Every record of the cluster the CMDB holds, page by page (CmdbBackend.list). Each page goes through the one retry
 * layer on its own, so a transient failure costs a page, not the whole listing; the listing as a whole has a bound
 * (`withinMs`), so a CMDB that hangs cannot stall the controller's passes.
 */
import type { CmdbBackend } from '../cmdb/backend.ts';
import type { Logger } from '../logger.ts';
import type { CmdbRecord } from '../pod/record.ts';
import { deadlineWithin } from '../retry/deadline.ts';
import { withRetry } from '../retry/with-retry.ts';
import { inSlot, type RateLimiter } from './rate-limiter.ts';

export interface ListingOptions {
  cluster: string;
  signal: AbortSignal;
  log: Logger;
  /** What one page may take. */
  attemptTimeoutMs: number;
  /** What the whole listing may take, retries included. */
  withinMs: number;
  /** The CMDB's request limiter, shared with the writes: a listing's requests count against --cmdb-rate too. */
  limiter?: RateLimiter;
}

export interface Listing {
  records: CmdbRecord[];
  pages: number;
  /** Items the CMDB answered that are not records of this program (logged once per listing). */
  skipped: number;
}

export async function listRecords(backend: CmdbBackend, options: ListingOptions): Promise<Listing> {
  const list = backend.list?.bind(backend);
  if (!list) throw new Error('this backend cannot list records');
  const deadline = deadlineWithin(options.withinMs, options.signal);
  const records: CmdbRecord[] = [];
  let after: string | undefined;
  let pages = 0;
  let skipped = 0;
  for (;;) {
    const page = await withRetry(async (budget) => (options.limiter ? inSlot(options.limiter, deadline.signal, () => list(options.cluster, budget, after)) : list(options.cluster, budget, after)), {
      what: `list the CMDB's records of cluster ${options.cluster}${after === undefined ? '' : ` after ${after}`}`,
      deadline,
      attemptTimeoutMs: options.attemptTimeoutMs,
      log: options.log,
    });
    pages++;
    records.push(...page.items);
    if (page.skipped.length > 0) {
      skipped += page.skipped.length;
      options.log.warn({ skipped: page.skipped.slice(0, 10), count: page.skipped.length }, 'the CMDB listed items that are not records of this program; left out');
    }
    if (page.next === null) return { records, pages, skipped };
    after = page.next;
  }
}
