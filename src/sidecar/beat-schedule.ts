/**
 * The heartbeat's jitter: each interval is drawn uniformly from [0.9, 1.1] x --heartbeat, and the next beat is due
 * that long after the previous one was due (not after it ended, so a slow CMDB does not stretch the period). The
 * first beat is one such interval after the record was written. Sidecars of a node that start together (a node
 * reboot, a rollout) drift apart by a random walk instead of beating in step against the CMDB.
 */
export const JITTER = 0.1;

/** One interval: `intervalMs` x a uniform draw from [1 - JITTER, 1 + JITTER]. `random` is in [0, 1). */
export function jittered(intervalMs: number, random: () => number = Math.random): number {
  return Math.round(intervalMs * (1 - JITTER + 2 * JITTER * random()));
}
