// The work queue's rate limit, alone and after a CMDB outage: starts counted per sliding window of WINDOW_MS; the
// outage lasts about a second against a backoff capped at 150 ms, so it is "minutes" to the queue.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryBackend } from '../../src/cmdb/memory/backend.ts';
import { WINDOW_MS } from '../../src/cluster/rate-limiter.ts';
import { action, apply, idOf, queueOf } from './work-queue-support.ts';

/** The most starts in any window of WINDOW_MS, less 10 ms: a start is timed here a moment after the limiter took it. */
const busiestWindow = (starts: number[]) => Math.max(0, ...starts.map((at) => starts.filter((other) => other >= at && other < at + WINDOW_MS - 10).length));

test('the rate limit holds: in any window, at most the rate start, as fast as the concurrency allows within it', async (t) => {
  const cmdb = createMemoryBackend();
  const starts: number[] = [];
  const run = apply(cmdb);
  const queue = queueOf(t, { concurrency: 2, ratePerSecond: 20, run: (key, step, budget) => (starts.push(performance.now()), run(key, step, budget)) });
  const began = performance.now();
  for (let n = 0; n < 30; n++) queue.add(idOf(n), action(n));
  await queue.idle();
  const took = performance.now() - began;
  assert.equal(cmdb.records.size, 30);
  assert.ok(busiestWindow(starts) <= 20, `${busiestWindow(starts)} starts in one window`);
  // 20 at once (2 in flight at a time), the other 10 once the first leave the window.
  assert.ok(took >= WINDOW_MS, `30 operations in ${Math.round(took)} ms`);
  assert.ok(took < WINDOW_MS + 1500, `30 operations in ${Math.round(took)} ms`);
});

test('a CMDB down for a while loses nothing; once back, every key is written once, with its latest state, at the rate limit', async (t) => {
  const cmdb = createMemoryBackend();
  const starts: number[] = [];
  const run = apply(cmdb);
  const keys = 40;
  const queue = queueOf(t, {
    concurrency: 4,
    ratePerSecond: 40,
    backoff: { minTimeout: 20, maxTimeout: 150 },
    run: (key, step, budget) => (starts.push(performance.now()), run(key, step, budget)),
  });
  cmdb.failNext(1e9);
  const down = performance.now();
  for (let n = 0; n < keys; n++) queue.add(idOf(n), action(n));
  await sleep(600);
  // Newer states arrive during the outage for half of the keys.
  for (let n = 0; n < keys; n += 2) queue.add(idOf(n), action(n, 'v2'));
  await sleep(600);
  const duringOutage = cmdb.calls.length;
  const outage = performance.now() - down;
  assert.equal(cmdb.records.size, 0);
  assert.equal(new Set(cmdb.calls.map((call) => ('id' in call ? call.id : ''))).size, keys, 'every key tried during the outage');
  assert.ok(duringOutage <= 40 * Math.ceil(outage / WINDOW_MS), `${duringOutage} attempts in ${Math.round(outage)} ms at 40 per window`);
  assert.ok(busiestWindow(starts) <= 40, `${busiestWindow(starts)} attempts in one window`);
  const counts = queue.counts();
  assert.equal(counts.queued + counts.inFlight, keys);
  assert.equal(counts.done, 0);
  assert.ok(counts.retried >= duringOutage - counts.inFlight, `${counts.retried} retried`);

  cmdb.failNext(0);
  const back = performance.now();
  await queue.idle();
  const drained = performance.now() - back;
  const after = cmdb.calls.slice(duringOutage).map((call) => ('id' in call ? call.id : call.operation));
  assert.deepEqual(after.toSorted(), Array.from({ length: keys }, (_, n) => idOf(n)).toSorted(), 'each key written once after recovery');
  for (let n = 0; n < keys; n++) assert.equal(cmdb.records.get(idOf(n))?.fields.team, n % 2 === 0 ? 'v2' : 'web');
  // No storm: the backlog drains at the rate limit. At most a window, the capped backoff (150 ms), and slack.
  assert.ok(busiestWindow(starts) <= 40, 'rate held while draining');
  assert.ok(drained < WINDOW_MS + 150 + 1500, `drained in ${Math.round(drained)} ms`);
  assert.equal(queue.counts().done, keys);
});
