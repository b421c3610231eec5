// The work queue's rate limit, alone and after a CMDB outage: starts counted per sliding window, with margins; the
// outage lasts about a second against a backoff capped at 150 ms, so it is "minutes" to the queue.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { createMemoryBackend } from '../../src/cmdb/memory/backend.ts';
import { action, apply, idOf, queueOf } from './work-queue-support.ts';

test('the rate limit holds: in any window, at most burst + rate × window operations start', async (t) => {
  const cmdb = createMemoryBackend();
  const starts: number[] = [];
  const run = apply(cmdb);
  const queue = queueOf(t, { concurrency: 2, ratePerSecond: 20, run: (key, step, budget) => (starts.push(performance.now()), run(key, step, budget)) });
  const began = performance.now();
  for (let n = 0; n < 30; n++) queue.add(idOf(n), action(n));
  await queue.idle();
  const took = performance.now() - began;
  assert.equal(cmdb.records.size, 30);
  for (const at of starts) {
    const inSecond = starts.filter((other) => other >= at && other < at + 1000).length;
    const inHalf = starts.filter((other) => other >= at && other < at + 500).length;
    assert.ok(inSecond <= 20 + 2 + 1, `${inSecond} starts in one second`);
    assert.ok(inHalf <= 10 + 2 + 1, `${inHalf} starts in half a second`);
  }
  // 2 at once, then 28 at 20 per second.
  assert.ok(took >= 1400 - 50, `30 operations in ${Math.round(took)} ms`);
  assert.ok(took < 1400 + 1500, `30 operations in ${Math.round(took)} ms`);
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
  assert.ok(duringOutage <= 4 + (40 * outage) / 1000 + 1, `${duringOutage} attempts in ${Math.round(outage)} ms at 40 per second`);
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
  // No storm: the backlog drains at the rate limit. At most the capped backoff (150 ms) plus 40 keys at 40 per second.
  const recovered = starts.filter((at) => at >= back);
  for (const at of recovered) assert.ok(recovered.filter((other) => other >= at && other < at + 500).length <= 20 + 4 + 1, 'rate held while draining');
  assert.ok(drained < 150 + 1000 + 1500, `drained in ${Math.round(drained)} ms`);
  assert.equal(queue.counts().done, keys);
});
