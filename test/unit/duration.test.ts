import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatDuration, parseDuration, parseGoDuration } from '../../src/settings/duration.ts';

// Go's time package, in nanoseconds.
const ns = 1n;
const us = 1_000n;
const ms = 1_000_000n;
const s = 1_000_000_000n;
const m = 60n * s;
const h = 60n * m;

// Go src/time/time_test.go, parseDurationTests (the valid inputs, with Go's expected values), in Go's order.
const GO_VALID: [string, bigint][] = [
  // simple
  ['0', 0n], ['5s', 5n * s], ['30s', 30n * s], ['1478s', 1478n * s],
  // sign
  ['-5s', -5n * s], ['+5s', 5n * s], ['-0', 0n], ['+0', 0n],
  // decimal
  ['5.0s', 5n * s], ['5.6s', 5n * s + 600n * ms], ['5.s', 5n * s], ['.5s', 500n * ms], ['1.0s', 1n * s], ['1.00s', 1n * s],
  ['1.004s', 1n * s + 4n * ms], ['1.0040s', 1n * s + 4n * ms], ['100.00100s', 100n * s + 1n * ms],
  // different units
  ['10ns', 10n * ns], ['11us', 11n * us], ['12\u00b5s', 12n * us], ['12\u03bcs', 12n * us], ['13ms', 13n * ms], ['14s', 14n * s],
  ['15m', 15n * m], ['16h', 16n * h],
  // composite durations
  ['3h30m', 3n * h + 30n * m], ['10.5s4m', 4n * m + 10n * s + 500n * ms], ['-2m3.4s', -(2n * m + 3n * s + 400n * ms)],
  ['1h2m3s4ms5us6ns', 1n * h + 2n * m + 3n * s + 4n * ms + 5n * us + 6n * ns], ['39h9m14.425s', 39n * h + 9n * m + 14n * s + 425n * ms],
  // large value
  ['52763797000ns', 52763797000n * ns],
  // more than 9 digits after decimal point (golang.org/issue/6617)
  ['0.3333333333333333333h', 20n * m],
  // 1<<53+1 cannot be stored precisely in a float64
  ['9007199254740993ns', (1n << 53n) + 1n],
  // largest duration that can be represented by int64 in nanoseconds
  ['9223372036854775807ns', (1n << 63n) - 1n], ['9223372036854775.807us', (1n << 63n) - 1n], ['9223372036s854ms775us807ns', (1n << 63n) - 1n],
  ['-9223372036854775808ns', -(1n << 63n)], ['-9223372036854775.808us', -(1n << 63n)], ['-9223372036s854ms775us808ns', -(1n << 63n)],
  // largest negative round trip value (golang.org/issue/48629)
  ['-2562047h47m16.854775808s', -(1n << 63n)],
  // huge string (golang.org/issue/15011)
  ['0.100000000000000000000h', 6n * m],
  // the first overflow check in leadingFraction
  ['0.830103483285477580700h', 49n * m + 48n * s + 372539827n * ns],
];

// Go src/time/time_test.go, parseDurationErrorTests, in Go's order. Go reads bytes; argv and env vars reach Node as
// UTF-8 text, where the invalid bytes "\x85" and "\xff" arrive as U+FFFD, so those cases are written with it.
const GO_INVALID: string[] = [
  // invalid
  '', '3', '-', 's', '.', '-.', '.s', '+.s', '1d', '\ufffd\ufffd', '\ufffdfff', 'hello \ufffdfff world', '\ufffd', '\ufffd hello \ufffd world',
  // overflow
  '9223372036854775810ns', '9223372036854775808ns', '-9223372036854775809ns', '9223372036854776us', '3000000h', '9223372036854775.808us',
  '9223372036854ms775us808ns',
];

test("Go's parseDurationTests: the same value, to the nanosecond", () => {
  for (const [text, want] of GO_VALID) assert.deepEqual(parseGoDuration(text), { ok: true, ns: want }, text);
});

test("Go's parseDurationErrorTests: refused", () => {
  for (const text of GO_INVALID) assert.equal(parseGoDuration(text).ok, false, JSON.stringify(text));
});

test('durations as Kubernetes users write them, in milliseconds', () => {
  const cases: [string, number][] = [
    ['1m30s', 90_000], ['1h', 3_600_000], ['.5s', 500], ['1.5m', 90_000], ['500ms', 500], ['1h2m3.5s', 3_723_500], ['2h45m', 9_900_000],
    ['3h30m', 12_600_000], ['250us', 0.25], ['250\u00b5s', 0.25], ['1500000ns', 1.5], ['24h', 86_400_000], [' 10s\n', 10_000], ['0s', 0], ['0', 0],
    ['-1s', -1000],
  ];
  for (const [text, want] of cases) assert.deepEqual(parseDuration(text), { ok: true, ms: want }, text);
});

test('what is refused says why', () => {
  const cases: [string, RegExp][] = [
    ['300', /without a unit/], ['1h30', /without a unit/], ['1d', /unknown unit "d"/], ['5x', /unknown unit "x"/], ['1S', /unknown unit "S"/],
    ['1 s', /unknown unit " s"/], ['1e3ms', /unknown unit "e"/], ['', /not a duration/], ['fast', /not a duration/], ['--5s', /not a duration/],
    ['1.5.5s', /without a unit/], ['3000000h', /out of range/],
  ];
  for (const [text, problem] of cases) {
    const parsed = parseDuration(text);
    assert.equal(parsed.ok, false, text);
    if (!parsed.ok) assert.match(parsed.problem, problem, text);
  }
  assert.deepEqual(parseDuration('3000000h'), { ok: false, problem: 'is out of range', outOfRange: true });
});

test('durations format for people', () => {
  assert.equal(formatDuration(850), '850ms');
  assert.equal(formatDuration(2500), '2.5s');
  assert.equal(formatDuration(300_000), '300s');
});
