// The controller's CMDB limiter on a clock the test moves: a slot is held from its start until one window after its
// request ended, so however long requests take, no window of WINDOW_MS sees more than the rate arrive; the wait it
// announces is the wait that works, and a caller that comes late loses no capacity.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createWindowLimiter, inSlot, WINDOW_MS } from '../../src/cluster/rate-limiter.ts';

test('a window\'s worth goes at once; a slot comes back one window after its request ended; the announced wait works', () => {
  let now = 1000;
  const limiter = createWindowLimiter({ ratePerSecond: 3, now: () => now });
  assert.deepEqual([limiter.take(), limiter.take(), limiter.take()], [0, 0, 0]);
  assert.equal(limiter.take(), 10, 'all three in flight: ask again soon');
  now += 150;
  limiter.release(); // the first answered 150 ms after it started
  const wait = limiter.take();
  assert.equal(wait, WINDOW_MS, 'its slot returns a window after its answer, not after its start');
  now += wait - 1;
  assert.equal(limiter.take(), 1, 'nothing taken while waiting');
  now += 1;
  assert.equal(limiter.take(), 0);
  assert.equal(limiter.take(), 10, 'the two others are still in flight');
  limiter.release();
  limiter.release();
  limiter.release();
  assert.equal(limiter.take(), WINDOW_MS);
  assert.throws(() => {
    for (let index = 0; index < 4; index++) limiter.release();
  }, /not taken/);
});

test('requests of any latency, callers at any pace: never more than the rate arrive in any window, and the rate is reached', () => {
  let now = 0;
  const rate = 5;
  const limiter = createWindowLimiter({ ratePerSecond: rate, now: () => now });
  const arrivals: number[] = [];
  const inFlight: { arrives: number; ends: number }[] = [];
  let seed = 7;
  const random = () => ((seed = (seed * 48_271) % 2_147_483_647) / 2_147_483_647);
  // One caller every ms for 30 s, a pause of 3 s in the middle; latencies of 1 to 300 ms, the arrival anywhere in it.
  for (let step = 0; step < 30_000; step++) {
    now = step + (step > 15_000 ? 3000 : 0);
    for (const request of inFlight.filter((each) => each.ends <= now)) {
      inFlight.splice(inFlight.indexOf(request), 1);
      limiter.release();
    }
    if (limiter.take() > 0) continue;
    const latency = 1 + Math.floor(random() * 300);
    const arrives = now + Math.floor(random() * latency);
    arrivals.push(arrives);
    inFlight.push({ arrives, ends: now + latency });
  }
  arrivals.sort((a, b) => a - b);
  for (const at of arrivals) {
    const inWindow = arrivals.filter((other) => other >= at && other < at + WINDOW_MS).length;
    assert.ok(inWindow <= rate, `${inWindow} arrivals in the window from ${at}`);
  }
  // Each slot cycles once per window plus a latency (150 ms on average here): the rate, less that share.
  const least = Math.floor(30 * rate * (WINDOW_MS / (WINDOW_MS + 300)));
  assert.ok(arrivals.length >= least && arrivals.length <= 30 * rate, `${arrivals.length} requests, not within ${least}..${30 * rate}`);
});

test('a rate that cannot work is refused', () => {
  for (const ratePerSecond of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => createWindowLimiter({ ratePerSecond }), RangeError, String(ratePerSecond));
  }
});

test('inSlot: a caller outside the work queue waits for the same window, holds its slot while the request runs, and gives it back', async () => {
  const limiter = createWindowLimiter({ ratePerSecond: 1 });
  const signal = new AbortController().signal;
  assert.equal(await inSlot(limiter, signal, () => Promise.resolve('first')), 'first');
  const began = performance.now();
  await assert.rejects(inSlot(limiter, signal, async () => Promise.reject(new Error('refused'))), /refused/);
  assert.ok(performance.now() - began >= WINDOW_MS - 5, 'the second waited a window after the first ended');
  assert.ok(limiter.take() > 0, 'a failed request counted too: the window is full again');
  const stopped = new AbortController();
  stopped.abort();
  await assert.rejects(inSlot(limiter, stopped.signal, () => Promise.resolve('never')), { name: 'AbortError' });
});
