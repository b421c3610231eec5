import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { test } from 'node:test';
import { maskerOf } from '../../src/cmdb/http-client/masker.ts';

// The forms in which a server may echo a secret back: as sent, JSON-escaped (with or without PHP's `\/`), and
// percent-encoded in either hex case.
test('a secret is masked in every form a server echoes it', () => {
  const secret = 'ab/c"d\\e+f==';
  const mask = maskerOf([secret]);
  const escaped = JSON.stringify(secret).slice(1, -1);
  const encoded = encodeURIComponent(secret);
  for (const form of [secret, escaped, escaped.replaceAll('/', '\\/'), encoded, encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())]) {
    assert.equal(mask(`before ${form} after`), 'before *** after', form);
  }
});

test('several secrets, one inside another, short ones and none', () => {
  const mask = maskerOf(['user:password', 'password', undefined, 'ab']);
  assert.equal(mask('basic user:password, then password alone; ab stays'), 'basic ***, then *** alone; ab stays');
  assert.equal(maskerOf([])('nothing to hide'), 'nothing to hide');
});

// A RegExp built from a 31,000-character base64 token exceeds V8's limit ("too large"), and its error message would
// carry the token: masking is a substring search, which takes any length, in time proportional to it.
test('secrets of any length are masked, without a RegExp made of them', () => {
  for (const length of [31_000, 1024 * 1024]) {
    const secret = randomBytes((length * 3) / 4).toString('base64');
    assert.ok(secret.includes('/') && secret.includes('+'));
    const mask = maskerOf([secret]);
    assert.equal(mask(`a ${secret} b ${encodeURIComponent(secret)} c`), 'a *** b *** c');
  }
});

test('a secret echoed base64-encoded is masked: standard and URL-safe alphabets, with and without padding', () => {
  for (const secret of ['tok-9f8e7d6c5b4a-SECRET', 'user:p4ss/w+rd', 'ab>?c']) {
    const mask = maskerOf([secret]);
    const standard = Buffer.from(secret).toString('base64');
    const urlSafe = Buffer.from(secret).toString('base64url');
    for (const form of [standard, standard.replace(/=+$/, ''), urlSafe, `${urlSafe}${'='.repeat(standard.length - urlSafe.length)}`]) {
      assert.equal(mask(`seen: ${form}.`), 'seen: ***.', form);
    }
  }
});

// Inside a longer base64 text (an encoded header line, a request dump), the secret starts at any of three alignments.
// Every character whose 6 bits all come from the secret must go; the few at its edges also carry other bytes.
test('a secret inside a longer base64 text is masked at each of the three alignments', () => {
  const secret = 'tok-9f8e7d6c5b4a-SECRET';
  const mask = maskerOf([secret]);
  for (const before of ['', 'B', 'Be', 'Bearer ']) {
    for (const after of ['', '\n', ' and more']) {
      for (const alphabet of ['base64', 'base64url'] as const) {
        const text = Buffer.from(`${before}${secret}${after}`).toString(alphabet);
        const first = Math.ceil((before.length * 8) / 6);
        const last = Math.floor(((before.length + secret.length) * 8) / 6);
        const masked = mask(text);
        const at = masked.indexOf('***');
        const what = `${alphabet} ${JSON.stringify(before)} ${JSON.stringify(after)}: ${masked}`;
        assert.equal(masked.slice(0, at), text.slice(0, first), what);
        // At the end, the secret's whole encoding (unpadded, padded) may match a character or two more: fine.
        assert.ok(text.slice(last).endsWith(masked.slice(at + 3)), what);
      }
    }
  }
});

test('text cut short loses what could be the start of a secret cut in two', () => {
  const secret = 'tok-9f8e7d6c5b4a-SECRET';
  const mask = maskerOf([secret]);
  const cut = `error: Bearer ${secret} was refused; the request that came with it: Bearer ${secret}`.slice(0, -5);
  const masked = mask.cutShort(cut);
  assert.ok(masked.startsWith('error: Bearer *** was refused; the request'), masked);
  assert.ok(!masked.includes('tok-'), masked);
  assert.equal(maskerOf([]).cutShort('nothing to hide'), 'nothing to hide');
});
