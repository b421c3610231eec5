import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration } from '../../src/duration.ts';

test('durations parse with their unit', () => {
  const cases: [string, number | undefined][] = [
    ['250ms', 250], ['30s', 30_000], ['1.5s', 1500], ['2m', 120_000], ['1h', 3_600_000], [' 10s ', 10_000], ['0s', 0],
    ['300', undefined], ['5x', undefined], ['s', undefined], ['-1s', undefined], ['1 s', undefined], ['', undefined], ['1e3ms', undefined],
  ];
  for (const [text, expected] of cases) assert.equal(parseDuration(text), expected, text);
});

test('durations format for people', () => {
  assert.equal(formatDuration(850), '850ms');
  assert.equal(formatDuration(2500), '2.5s');
  assert.equal(formatDuration(300_000), '300s');
});
