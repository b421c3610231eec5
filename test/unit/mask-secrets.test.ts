import assert from 'node:assert/strict';
import { test } from 'node:test';
import { maskerOf } from '../../src/cmdb/http-client.ts';

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
