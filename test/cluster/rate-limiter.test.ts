// The token bucket on a clock the test moves: burst at once, then one token per 1/rate seconds, never more than the
// burst however long it sat idle, and the wait it announces is the wait that works.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createRateLimiter } from '../../src/cluster/rate-limiter.ts';

function bucket(ratePerSecond: number, burst: number) {
  let now = 1000;
  const limiter = createRateLimiter({ ratePerSecond, burst, now: () => now });
  return { limiter, advance: (ms: number) => void (now += ms) };
}

test('the burst goes at once, then one token per 1/rate seconds; the announced wait is enough and not more', () => {
  const { limiter, advance } = bucket(10, 3);
  assert.deepEqual([limiter.take(), limiter.take(), limiter.take()], [0, 0, 0]);
  assert.equal(limiter.take(), 100);
  advance(99);
  assert.equal(limiter.take(), 1, 'nothing taken while waiting');
  advance(1);
  assert.equal(limiter.take(), 0);
  assert.equal(limiter.take(), 100);
});

test('a long idle time fills the bucket up to the burst, no further', () => {
  const { limiter, advance } = bucket(50, 2);
  limiter.take();
  limiter.take();
  advance(60_000);
  assert.deepEqual([limiter.take(), limiter.take()], [0, 0]);
  assert.equal(limiter.take(), 20);
});

test('in any window the bucket lets through at most burst + rate × window', () => {
  const { limiter, advance } = bucket(20, 4);
  const taken: number[] = [];
  for (let t = 0; t < 5000; t++) {
    while (limiter.take() === 0) taken.push(t);
    advance(1);
  }
  for (const from of taken) assert.ok(taken.filter((at) => at >= from && at < from + 1000).length <= 4 + 20);
  assert.equal(taken.length, 4 + 20 * 5 - 1);
});

test('a rate or burst that cannot work is refused', () => {
  for (const [ratePerSecond, burst] of [[0, 1], [-1, 1], [Number.NaN, 1], [Number.POSITIVE_INFINITY, 1], [1, 0], [1, 1.5]] as const) {
    assert.throws(() => createRateLimiter({ ratePerSecond, burst }), RangeError, `${ratePerSecond}/${burst}`);
  }
});

test('the work queue\'s limiter: at most rate starts in any second, a tenth of it at once, and a late caller loses no capacity', async () => {
  const { createWindowLimiter } = await import('../../src/cluster/rate-limiter.ts');
  let now = 0;
  const limiter = createWindowLimiter({ ratePerSecond: 5, now: () => now });
  const started: number[] = [];
  // Callers that come late (every 7 ms, then a long pause) still get the full rate, never more in any second.
  for (let step = 0; step < 4000; step += 1) {
    now = step * 7 + (step > 2000 ? 3000 : 0);
    const wait = limiter.take();
    if (wait === 0) started.push(now);
    else assert.ok(wait >= 1);
  }
  for (const [index, at] of started.entries()) {
    const inWindow = started.filter((other) => other > at - 1000 && other <= at).length;
    assert.ok(inWindow <= 5, `${inWindow} starts in the second up to ${at} (index ${index})`);
    // burst 1 (5 / 10, rounded up): never two starts within 1/rate of each other.
    const close = started.filter((other) => other > at - 200 + 1e-9 && other <= at).length;
    assert.ok(close <= 1, `${close} starts in the 200 ms up to ${at}`);
  }
  // Over 28 s of callers (plus a 3 s pause, in which the window empties), about 5 per second started.
  assert.ok(started.length >= 5 * 28 - 5, `${started.length} starts`);
  assert.throws(() => createWindowLimiter({ ratePerSecond: 0 }), RangeError);
  assert.throws(() => createWindowLimiter({ ratePerSecond: 1.5 }), RangeError);
});
