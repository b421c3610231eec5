import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTransientStatus } from '../../src/cmdb/http-client.ts';
import { parseRetryAfter } from '../../src/cmdb/retry-after.ts';

test('Retry-After as seconds or as an HTTP date', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');
  assert.equal(parseRetryAfter('1', now), 1000);
  assert.equal(parseRetryAfter(' 120 ', now), 120_000);
  assert.equal(parseRetryAfter('Sun, 22 Nov 2026 10:00:05 GMT', now), 5000);
  assert.equal(parseRetryAfter('Sun, 22 Nov 2026 09:59:00 GMT', now), 0);
  assert.equal(parseRetryAfter(undefined, now), undefined);
  assert.equal(parseRetryAfter('soon', now), undefined);
  assert.equal(parseRetryAfter('-5', now), undefined);
});

test('which statuses are worth another attempt', () => {
  for (const status of [408, 425, 429, 500, 502, 503, 504]) assert.equal(isTransientStatus(status), true, String(status));
  for (const status of [400, 401, 403, 404, 409, 422]) assert.equal(isTransientStatus(status), false, String(status));
});
