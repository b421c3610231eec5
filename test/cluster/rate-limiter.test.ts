// The work queue's limiter on a clock the test moves: at most rate starts in any window of WINDOW_MS, the wait it
// announces is the wait that works, and a caller that comes late loses no capacity.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createWindowLimiter, WINDOW_MS } from '../../src/cluster/rate-limiter.ts';

test('a window\'s worth goes at once, then each start waits for the oldest to leave the window; the announced wait works', () => {
  let now = 1000;
  const limiter = createWindowLimiter({ ratePerSecond: 3, now: () => now });
  assert.deepEqual([limiter.take(), limiter.take(), limiter.take()], [0, 0, 0]);
  const wait = limiter.take();
  assert.equal(wait, WINDOW_MS);
  now += wait - 1;
  assert.equal(limiter.take(), 1, 'nothing taken while waiting');
  now += 1;
  assert.equal(limiter.take(), 0);
  assert.equal(limiter.take(), 0);
  assert.equal(limiter.take(), 0);
  assert.equal(limiter.take(), WINDOW_MS);
});

test('callers at any pace: never more than rate starts in any window, and the full rate reached', () => {
  let now = 0;
  const limiter = createWindowLimiter({ ratePerSecond: 5, now: () => now });
  const started: number[] = [];
  // Callers that come late (every 7 ms), then a long pause, then again.
  for (let step = 0; step < 4000; step += 1) {
    now = step * 7 + (step > 2000 ? 3000 : 0);
    const wait = limiter.take();
    if (wait === 0) started.push(now);
    else assert.ok(wait >= 1);
  }
  for (const [index, at] of started.entries()) {
    const inWindow = started.filter((other) => other > at - WINDOW_MS && other <= at).length;
    assert.ok(inWindow <= 5, `${inWindow} starts in the window up to ${at} (index ${index})`);
  }
  // Two stretches of 14 s of callers: 5 per window, each window starting up to one 7 ms step late.
  const most = 2 * 5 * Math.ceil(14_000 / WINDOW_MS);
  const least = 2 * 5 * Math.floor(14_000 / (WINDOW_MS + 7));
  assert.ok(started.length >= least && started.length <= most, `${started.length} starts, not within ${least}..${most}`);
});

test('a rate that cannot work is refused', () => {
  for (const ratePerSecond of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
    assert.throws(() => createWindowLimiter({ ratePerSecond }), RangeError, String(ratePerSecond));
  }
});

test('startAllowed: a caller outside the work queue waits for the same window and takes its start from it', async () => {
  const { startAllowed } = await import('../../src/cluster/rate-limiter.ts');
  const limiter = createWindowLimiter({ ratePerSecond: 1 });
  const signal = new AbortController().signal;
  await startAllowed(limiter, signal);
  const began = performance.now();
  await startAllowed(limiter, signal);
  assert.ok(performance.now() - began >= WINDOW_MS - 5, 'the second start waited for the first to leave the window');
  assert.ok(limiter.take() > 0, 'and it counted: the window is full again');
  const stopped = new AbortController();
  stopped.abort();
  await assert.rejects(startAllowed(limiter, stopped.signal), { name: 'AbortError' });
});
