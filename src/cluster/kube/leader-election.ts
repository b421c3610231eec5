/**
 * Leader election on a Lease, client-go's protocol (k8s.io/client-go tools/leaderelection/leaderelection.go,
 * tryAcquireOrRenew; @kubernetes/client-node has none):
 *   - get the lease; missing → create it (409 AlreadyExists: another candidate won the race);
 *   - held by another and still valid → wait. Valid is judged by OUR clock only: the moment we first saw the current
 *     record (it changes on every renewal) plus its leaseDurationSeconds. The holder's renewTime is never compared
 *     with our clock, so clock skew between nodes does not matter (only a different clock *rate* would);
 *   - free, expired, released or ours → update it with our identity, keeping the resourceVersion we read (409
 *     Conflict: someone wrote in between, we lost); leaseTransitions + 1 when the holder changes;
 *   - as leader: renew every retry period; when no renewal has succeeded for the renew deadline (counted from the
 *     start of the last good one), or another holder shows up, leadership is lost: the `leading` signal aborts and
 *     onStoppedLeading runs at once, so the caller stops writing before anyone else can start (renew deadline <
 *     lease duration). run() then returns 'lost'; a new run() is a new candidacy;
 *   - on stop (the signal aborts) while leading: `leading` aborts, then the lease is released as client-go's
 *     ReleaseOnCancel does (holderIdentity "", leaseDurationSeconds 1), so a successor need not wait out the lease.
 *     Abort only once the guarded work has stopped.
 * Defaults are client-go's for core components: lease 15 s, renew deadline 10 s, retry period 2 s.
 */
import type { KubeClient } from './api-client.ts';
import { sleep } from './backoff.ts';
import { identityFromEnv } from './identity.ts';
import { KubeApiError } from './kube-api-error.ts';
import { leaseLock, microTime, type Lease, type LeaseSpec } from './lease-lock.ts';

export { identityFromEnv } from './identity.ts';

export interface LeaderElectionOptions {
  client: KubeClient;
  namespace: string;
  name: string;
  /** Default: identityFromEnv(). Must differ between candidates. */
  identity?: string;
  /** Whole seconds on the wire (default 15 s). */
  leaseDurationMs?: number;
  /** Default 10 s; must be shorter than the lease duration. */
  renewDeadlineMs?: number;
  /** Default 2 s; the renew deadline must exceed 1.2 times it. */
  retryPeriodMs?: number;
  /** Default true. */
  releaseOnStop?: boolean;
  signal: AbortSignal;
  /** We lead; `leading` aborts the moment we no longer do. */
  onStartedLeading(leading: AbortSignal): void;
  /** Leadership ended (lost or released); only called after onStartedLeading. */
  onStoppedLeading?(): void;
  /** The holder we observe changed (our own identity included). */
  onNewLeader?(identity: string): void;
  /** One attempt failed for a reason other than losing the race (for logs); the election goes on. */
  onError?(error: unknown): void;
}

const JITTER = 1.2;

export async function runLeaderElection(options: LeaderElectionOptions): Promise<'lost' | 'stopped'> {
  const identity = options.identity ?? identityFromEnv();
  const leaseMs = options.leaseDurationMs ?? 15_000;
  const deadlineMs = options.renewDeadlineMs ?? 10_000;
  const retryMs = options.retryPeriodMs ?? 2_000;
  if (!identity) throw new Error('leader election needs an identity');
  if (!(leaseMs >= 1000 && leaseMs > deadlineMs && deadlineMs > JITTER * retryMs && retryMs > 0)) {
    throw new Error(`leader election needs lease duration (${leaseMs} ms, at least 1 s) > renew deadline (${deadlineMs} ms) > ${JITTER} x retry period (${retryMs} ms)`);
  }
  const { signal } = options;
  const lock = leaseLock(options.client, options.namespace, options.name, deadlineMs);
  let lease: Lease | undefined;
  let observed = '';
  let observedAt = 0;
  let holder = '';

  const report = (error: unknown) => {
    if (!signal.aborted) options.onError?.(error);
  };
  const observe = (next: Lease) => {
    lease = next;
    const record = JSON.stringify(next.spec ?? {});
    if (record !== observed) {
      observed = record;
      observedAt = performance.now();
    }
    const now = next.spec?.holderIdentity ?? '';
    if (now !== holder && now) options.onNewLeader?.(now);
    holder = now;
  };
  const validFor = () => observedAt + (lease?.spec?.leaseDurationSeconds ?? 0) * 1000 - performance.now();
  const conflict = (error: unknown) => error instanceof KubeApiError && error.status === 409;

  async function tryAcquireOrRenew(attempt: AbortSignal): Promise<boolean> {
    const now = microTime();
    // The fast path of a leader: update the lease as last written, no read first.
    if (lease && holder === identity && validFor() > 0) {
      try {
        observe(await lock.update(lease, { ...lease.spec, renewTime: now }, attempt));
        return true;
      } catch (error) {
        if (!conflict(error)) report(error);
      }
    }
    let current: Lease;
    try {
      current = await lock.get(attempt);
    } catch (error) {
      if (!(error instanceof KubeApiError && error.status === 404)) {
        report(error);
        return false;
      }
      try {
        observe(await lock.create({ holderIdentity: identity, leaseDurationSeconds: Math.round(leaseMs / 1000), acquireTime: now, renewTime: now, leaseTransitions: 0 }, attempt));
        return true;
      } catch (createError) {
        if (!conflict(createError)) report(createError);
        return false;
      }
    }
    observe(current);
    const previous = current.spec ?? {};
    if (holder && holder !== identity && validFor() > 0) return false;
    const ours = holder === identity;
    const spec: LeaseSpec = {
      holderIdentity: identity,
      leaseDurationSeconds: Math.round(leaseMs / 1000),
      acquireTime: ours ? (previous.acquireTime ?? now) : now,
      renewTime: now,
      leaseTransitions: ours ? (previous.leaseTransitions ?? 0) : (previous.leaseTransitions ?? 0) + 1,
    };
    try {
      observe(await lock.update(current, spec, attempt));
      return true;
    } catch (error) {
      if (!conflict(error)) report(error);
      return false;
    }
  }

  // Candidate: try every retry period, jittered (wait.JitterUntil with factor 1.2).
  while (!signal.aborted && !(await tryAcquireOrRenew(AbortSignal.any([signal, AbortSignal.timeout(deadlineMs)])))) {
    await sleep(retryMs + Math.random() * JITTER * retryMs, signal);
  }
  if (signal.aborted) {
    // Stopped while an acquiring update was in flight: the server may have applied it, and a Lease left held by a
    // process that is gone keeps every other replica from writing for a lease duration.
    if (options.releaseOnStop ?? true) await release();
    return 'stopped';
  }

  const leading = new AbortController();
  options.onStartedLeading(leading.signal);
  let renewedAt = performance.now();
  while (!signal.aborted) {
    await sleep(retryMs, signal);
    let renewed = false;
    while (!signal.aborted && !renewed) {
      const left = deadlineMs - (performance.now() - renewedAt);
      if (left <= 0 || (holder !== identity && holder !== '')) break;
      const startedAt = performance.now();
      renewed = await tryAcquireOrRenew(AbortSignal.any([signal, AbortSignal.timeout(Math.max(1, Math.floor(left)))]));
      if (renewed) renewedAt = startedAt;
      else await sleep(Math.min(retryMs, deadlineMs - (performance.now() - renewedAt)), signal);
    }
    if (!renewed && !signal.aborted) {
      leading.abort(new Error(`leadership of ${lock.description} lost: ${holder === identity ? `no renewal for ${deadlineMs} ms` : `now held by ${holder}`}`));
      options.onStoppedLeading?.();
      return 'lost';
    }
  }
  leading.abort(new Error(`leadership of ${lock.description} given up: stopping`));
  if (options.releaseOnStop ?? true) await release();
  options.onStoppedLeading?.();
  return 'stopped';

  /** ReleaseOnCancel: hand the lease back if it is still ours, retrying on conflict within the renew deadline. */
  async function release(): Promise<void> {
    const until = AbortSignal.timeout(deadlineMs);
    while (!until.aborted) {
      try {
        const current = await lock.get(until);
        if (current.spec?.holderIdentity !== identity) return;
        const now = microTime();
        await lock.update(current, { holderIdentity: '', leaseDurationSeconds: 1, acquireTime: now, renewTime: now, leaseTransitions: current.spec.leaseTransitions ?? 0 }, until);
        return;
      } catch (error) {
        if (!conflict(error)) {
          options.onError?.(error);
          return;
        }
      }
    }
  }
}
