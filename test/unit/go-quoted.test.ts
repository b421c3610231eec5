import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGoQuotedMap, unquoteGo } from '../../src/pod/go-quoted.ts';

// The texts below are what the kubelet writes (pkg/fieldpath FormatMap: key + "=" + fmt %q of the value, sorted,
// joined by "\n", no trailing newline). Go's %q keeps printable non-ASCII as UTF-8 and escapes the rest.
test('values with quotes, backslashes, newlines and non-ASCII parse to the right strings', () => {
  const file = [
    'app.kubernetes.io/name="shop"',
    'empty=""',
    'json="{\\"a\\":[1,2]}"',
    'multi="line one\\nline two\\ttabbed\\r"',
    'path="C:\\\\temp\\\\x"',
    'unicode="café — 東京 🚀"',
    'escaped="zero\\u200bwidth \\x00nul \\x7f del \\U0001f680"',
    'octal="\\101\\102"',
    'bell="\\a\\b\\f\\v"',
    'utf8bytes="\\xc3\\xa9"',
  ].join('\n');
  const parsed = parseGoQuotedMap(file);
  assert.ok(parsed.ok);
  assert.deepEqual(parsed.map, {
    'app.kubernetes.io/name': 'shop',
    empty: '',
    json: '{"a":[1,2]}',
    multi: 'line one\nline two\ttabbed\r',
    path: 'C:\\temp\\x',
    unicode: 'café — 東京 🚀',
    escaped: 'zero\u200bwidth \u0000nul \u007f del 🚀',
    octal: 'AB',
    bell: '\u0007\b\f\v',
    utf8bytes: 'é',
  });
});

test('an empty file and a trailing newline are fine', () => {
  assert.deepEqual(parseGoQuotedMap(''), { ok: true, map: {} });
  assert.deepEqual(parseGoQuotedMap('a="1"\n'), { ok: true, map: { a: '1' } });
});

test('malformed lines are reported with their line number', () => {
  const cases: [string, number][] = [
    ['a="1"\nb=2', 2],
    ['a="1"\nno-equals', 2],
    ['a="unterminated', 1],
    ['a="bad \\q escape"', 1],
    ['a="inner " quote"', 1],
    ['a="\\u12"', 1],
    ['="no key"', 1],
    ['a="\\ud800"', 1],
  ];
  for (const [text, line] of cases) {
    const parsed = parseGoQuotedMap(text);
    assert.equal(parsed.ok, false, text);
    if (!parsed.ok) assert.equal(parsed.line, line, text);
  }
});

test('unquoteGo refuses what is not a double-quoted Go literal', () => {
  assert.equal(unquoteGo('plain'), undefined);
  assert.equal(unquoteGo("'single'"), undefined);
  assert.equal(unquoteGo('"ok"'), 'ok');
});
