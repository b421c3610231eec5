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
