// The retry layer's backoff rules, shared by withRetry (through p-retry) and the controller's work queue: p-retry's
// formula, min × 2^(retry − 1) times a random 1 to 2, capped; Retry-After as a floor with up to 20% on top.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { BACKOFF, honourRetryAfter, retryDelay } from '../../src/retry/retry-delay.ts';

test('each retry waits min × 2^(retry − 1) to twice that, capped at maxTimeout', () => {
  for (let retry = 1; retry <= 12; retry++) {
    const base = BACKOFF.minTimeout * 2 ** (retry - 1);
    for (let draw = 0; draw < 200; draw++) {
      const delay = retryDelay(retry);
      assert.ok(delay >= Math.min(base, BACKOFF.maxTimeout) && delay <= Math.min(2 * base, BACKOFF.maxTimeout), `retry ${retry}: ${delay} ms`);
    }
  }
  const queue = { ...BACKOFF, maxTimeout: 30_000 };
  assert.equal(retryDelay(20, queue), 30_000);
  assert.equal(retryDelay(3, { ...BACKOFF, randomize: false }), 800);
});

test('Retry-After is a floor with up to 20% jitter; the backoff wins when it is longer', () => {
  assert.equal(honourRetryAfter(400, undefined), 400);
  for (let draw = 0; draw < 200; draw++) {
    const wait = honourRetryAfter(100, 1000);
    assert.ok(wait >= 1000 && wait <= 1200, `${wait} ms`);
  }
  assert.equal(honourRetryAfter(5000, 1000), 5000);
});
