/**
 * client-go's event spam filter (k8s.io/client-go tools/record/events_cache.go, EventSourceObjectSpamFilter): a
 * token bucket per involved object, 25 events at once and then one more per 5 minutes (defaultSpamBurst 25,
 * defaultSpamQPS 1/300), over at most 4096 objects (its LRU size; the least recently used is forgotten). A pod in
 * a crash loop can then not flood the API server with our events, and every other pod still gets its own.
 * client-go also aggregates and deduplicates similar events; this one only limits (documented choice: fewer moving
 * parts, and our reasons are few and distinct).
 */

export interface SpamFilterOptions {
  /** Default 25. */
  burst?: number;
  /** One token comes back this often (default 5 min). */
  refillMs?: number;
  /** Default 4096. */
  maxKeys?: number;
}

export interface SpamFilter {
  /** Takes a token for `key` when there is one. */
  allow(key: string): boolean;
}

export function createSpamFilter(options: SpamFilterOptions = {}): SpamFilter {
  const burst = options.burst ?? 25;
  const refillMs = options.refillMs ?? 300_000;
  const maxKeys = options.maxKeys ?? 4096;
  const buckets = new Map<string, { tokens: number; at: number }>();
  return {
    allow(key) {
      const now = performance.now();
      const bucket = buckets.get(key) ?? { tokens: burst, at: now };
      bucket.tokens = Math.min(burst, bucket.tokens + (now - bucket.at) / refillMs);
      bucket.at = now;
      // Map order is insertion order: taking the key out and back in makes it the most recently used.
      buckets.delete(key);
      buckets.set(key, bucket);
      if (buckets.size > maxKeys) buckets.delete(buckets.keys().next().value ?? '');
      if (bucket.tokens < 1) return false;
      bucket.tokens -= 1;
      return true;
    },
  };
}
