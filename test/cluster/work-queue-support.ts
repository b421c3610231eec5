// What the work queue's tests share (not a test file itself): a plan action per pod number, the controller's one
// backend call per action, a queue with short timings stopped after the test, a fake operation held until released.
import assert from 'node:assert/strict';
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { MemoryBackend } from '../../src/cmdb/memory/backend.ts';
import type { PlanAction } from '../../src/cluster/plan.ts';
import { createWorkQueue, type WorkQueue, type WorkQueueOptions } from '../../src/cluster/work-queue.ts';
import { createLogger } from '../../src/logger.ts';
import type { PodIdentity } from '../../src/pod/identity.ts';
import { buildRecord } from '../../src/pod/record.ts';
import type { TimeBudget } from '../../src/retry/time-budget.ts';

export const silent = createLogger({ level: 'silent', command: 'test' });
const SEEN = new Date('2026-01-01T00:00:00Z');

/** A create action for pod number `n`, with `team` as the fact that changes between states. */
export function action(n: number, team = 'web'): PlanAction {
  const pod: PodIdentity = { name: `shop-${n}`, uid: `0b7e4f0e-0000-4000-8000-${String(n).padStart(12, '0')}`, namespace: 'shop', ip: '10.1.0.1', ips: ['10.1.0.1'], nodeName: 'node-1', hostIp: '192.168.0.7', labels: {}, annotations: {}, notes: [] };
  return { kind: 'create', record: buildRecord(pod, { cluster: 'c', container: 'app', app: undefined, fields: { team } }, 'ready', SEEN) };
}
export const idOf = (n: number) => action(n).record.id;

/** What the controller will do with an action: one backend call. */
export const apply = (cmdb: MemoryBackend) => (_key: string, step: PlanAction, budget: TimeBudget) =>
  step.kind === 'retire' ? cmdb.retire(step.record, budget) : cmdb.upsert(step.record, budget);

export function queueOf(t: TestContext, options: Partial<WorkQueueOptions<PlanAction>> & Pick<WorkQueueOptions<PlanAction>, 'run'>): WorkQueue<PlanAction> & { stop: () => void } {
  const stopper = new AbortController();
  t.after(() => stopper.abort());
  const queue = createWorkQueue({ concurrency: 4, ratePerSecond: 1000, attemptTimeoutMs: 1000, signal: stopper.signal, log: silent, backoff: { minTimeout: 20, maxTimeout: 200 }, ...options });
  return { ...queue, stop: () => stopper.abort() };
}

/** A fake operation that records each start and holds until released (release() ends the oldest held one). */
export function held() {
  const runs: { key: string; team: string | undefined; at: number }[] = [];
  const pending: (() => void)[] = [];
  const running = new Map<string, number>();
  let overlap = 0;
  const run = (key: string, step: PlanAction) => {
    runs.push({ key, team: step.record.fields.team, at: performance.now() });
    running.set(key, (running.get(key) ?? 0) + 1);
    overlap = Math.max(overlap, running.get(key) ?? 0);
    const { promise, resolve } = Promise.withResolvers<void>();
    pending.push(() => {
      running.set(key, (running.get(key) ?? 1) - 1);
      resolve();
    });
    return promise;
  };
  return { runs, run, release: () => pending.shift()?.(), held: () => pending.length, overlap: () => overlap };
}

export async function until(what: string, check: () => boolean, withinMs = 3000): Promise<void> {
  const end = performance.now() + withinMs;
  while (!check()) {
    if (performance.now() > end) assert.fail(`still waiting for ${what}`);
    await sleep(5);
  }
}
