import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isTransientStatus } from '../../src/cmdb/http-client/failures.ts';
import { parseHttpDate, parseRetryAfter } from '../../src/retry/retry-after.ts';

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

// RFC 9110 section 5.6.7: all three forms are UTC, whatever the container's time zone. Node reads TZ again when it
// is assigned, so one process can try several zones.
test('the three HTTP-date forms are read as UTC in every time zone', (t) => {
  const zone = process.env.TZ;
  t.after(() => {
    if (zone === undefined) delete process.env.TZ;
    else process.env.TZ = zone;
  });
  const now = Date.parse('1994-11-06T08:49:30Z');
  for (const tz of ['UTC', 'America/Los_Angeles', 'Asia/Tokyo', 'Australia/Lord_Howe', 'Pacific/Kiritimati', 'America/St_Johns']) {
    process.env.TZ = tz;
    assert.equal(new Date(now).getTimezoneOffset() === 0, tz === 'UTC', `${tz} is in effect`);
    for (const date of ['Sun, 06 Nov 1994 08:49:37 GMT', 'Sunday, 06-Nov-94 08:49:37 GMT', 'Sun Nov  6 08:49:37 1994']) {
      assert.equal(parseRetryAfter(date, now), 7000, `${date} in ${tz}`);
    }
    assert.equal(parseHttpDate('Thu Feb 29 23:59:59 1996'), Date.UTC(1996, 1, 29, 23, 59, 59), `asctime with a two-digit day in ${tz}`);
  }
});

test('the two-digit year of the RFC 850 form: more than 50 years ahead means the past century', () => {
  const now = Date.parse('2026-11-22T10:00:00Z');
  assert.equal(parseHttpDate('Sunday, 22-Nov-26 10:00:05 GMT', now), Date.parse('2026-11-22T10:00:05Z'));
  assert.equal(parseHttpDate('Friday, 22-Nov-76 10:00:00 GMT', now), Date.parse('2076-11-22T10:00:00Z'));
  assert.equal(parseHttpDate('Wednesday, 22-Nov-77 10:00:00 GMT', now), Date.parse('1977-11-22T10:00:00Z'));
});

test('what is not an HTTP-date is not read as one', () => {
  for (const text of ['Sun, 31 Feb 2026 10:00:00 GMT', 'Sun, 22 Nov 2026 24:00:00 GMT', 'Sun, 22 Nov 2026 10:00:00 PST', '2026-11-22T10:00:05Z',
    'Sun, 22 Nov 2026 10:00:00', 'Sun Nov 22 10:00:00 2026 GMT', 'Sun, 22 Foo 2026 10:00:00 GMT', 'Tomorrow']) {
    assert.equal(parseHttpDate(text), undefined, text);
  }
});

test('which statuses are worth another attempt', () => {
  for (const status of [408, 425, 429, 500, 502, 503, 504]) assert.equal(isTransientStatus(status), true, String(status));
  for (const status of [400, 401, 403, 404, 409, 422]) assert.equal(isTransientStatus(status), false, String(status));
});
