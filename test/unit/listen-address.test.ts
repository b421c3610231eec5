import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { formatListenAddress, parseListenAddress } from '../../src/settings/listen-address.ts';

const ACCEPTED: [string, string | undefined, number][] = [
  [':9102', undefined, 9102],
  ['0.0.0.0:9102', '0.0.0.0', 9102],
  ['127.0.0.1:9102', '127.0.0.1', 9102],
  ['[::]:9102', '::', 9102],
  ['[::1]:9901', '::1', 9901],
  ['10.1.2.3:1', '10.1.2.3', 1],
  [':65535', undefined, 65535],
  ['[fd00::1]:8080', 'fd00::1', 8080],
];

for (const [raw, host, port] of ACCEPTED) {
  test(`--listen ${raw} is host ${host ?? '(every interface)'} port ${port}, and prints back as written`, () => {
    const address = parseListenAddress('listen', raw);
    assert.deepEqual(address, { flag: 'listen', host, port });
    assert.equal(formatListenAddress(address), raw);
  });
}

const REFUSED: [string, RegExp][] = [
  [':0', /port 0/],
  ['127.0.0.1:0', /port 0/],
  ['[::1]:0', /port 0/],
  [':65536', /above 65535/],
  [':99999', /above 65535/],
  ['9102', /no colon before the port/],
  ['localhost:9102', /not an IP address/],
  ['metrics.example.com:9102', /not an IP address/],
  ['256.1.1.1:9102', /not an IP address/],
  ['::1:9102', /without \[brackets\]/],
  ['[127.0.0.1]:9102', /no IPv6 address between the brackets/],
  ['[]:9102', /no IPv6 address between the brackets/],
  ['[::1]', /not host:port/],
  ['127.0.0.1:', /not host:port/],
  ['127.0.0.1:http', /not host:port/],
  ['', /not host:port/],
  [' :9102', /not an IP address/],
  [':9102 ', /not host:port/],
  [':-1', /not host:port/],
  [':123456', /not host:port/],
];

for (const [raw, why] of REFUSED) {
  test(`--listen ${JSON.stringify(raw)} is a ConfigError naming the flag and its env var`, () => {
    assert.throws(() => parseListenAddress('listen', raw), (error: unknown) => {
      assert.ok(error instanceof ConfigError);
      assert.equal(error.exitCode, 2);
      assert.match(error.message, /^--listen \(CMDB_HOOK_LISTEN\) /);
      assert.match(error.message, why);
      assert.match(error.message, /write it like :9102/);
      assert.doesNotMatch(error.message, /\n/);
      return true;
    });
  });
}

test('the flag named in messages is the caller\'s: each mode may have its own listen setting', () => {
  assert.throws(() => parseListenAddress('metrics-listen', ':0'), /: --metrics-listen \(CMDB_HOOK_METRICS_LISTEN\) ":0" has port 0/);
});
