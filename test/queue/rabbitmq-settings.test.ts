// --amqp-url, --amqp-password-file and --amqp-ca-file, read without a broker: what is refused, and how it is said.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { readAmqpEndpoint } from '../../src/queue/rabbitmq/amqp-settings.ts';
import { RabbitMqTransport } from '../../src/queue/rabbitmq/rabbitmq-transport.ts';
import { captureLog } from '../support/capture-log.ts';
import { secretFile } from './rabbitmq-support.ts';

const refused = (pattern: RegExp, secret?: string) => (error: unknown) => {
  assert.ok(error instanceof ConfigError, String(error));
  assert.match(error.message, pattern);
  if (secret) assert.doesNotMatch(error.message, new RegExp(secret));
  return true;
};

test('a password in --amqp-url is refused, naming the flag and the file to use instead, without echoing it', () => {
  assert.throws(() => readAmqpEndpoint({ url: 'amqp://cmdb-hook:s3cret@rabbitmq:5672/' }),
    refused(/^--amqp-url \(CMDB_HOOK_AMQP_URL\) must not hold a password; put it in a file and use --amqp-password-file \(CMDB_HOOK_AMQP_PASSWORD_FILE\)$/, 's3cret'));
  // The transport reads its settings when made: nothing connects with such a URL.
  assert.throws(() => new RabbitMqTransport({ url: 'amqps://u:s3cret@rabbitmq/', cluster: 'c', logger: captureLog().log }), refused(/--amqp-url/, 's3cret'));
});

test('the URL gives host, port, vhost and user; the password comes from its file, read once', () => {
  const endpoint = readAmqpEndpoint({ url: 'amqp://cmdb-hook@rabbitmq.infra:5673/prod%2Feu', passwordFile: secretFile('pa ss') });
  assert.deepEqual({ ...endpoint }, {
    protocol: 'amqp', hostname: 'rabbitmq.infra', port: 5673, vhost: 'prod/eu', username: 'cmdb-hook', password: 'pa ss', ca: undefined,
    shown: 'amqp://cmdb-hook@rabbitmq.infra:5673/prod%2Feu',
  });
  assert.equal(readAmqpEndpoint({ url: 'amqps://u@[::1]' }).port, 5671);
  assert.equal(readAmqpEndpoint({ url: 'amqps://u@[::1]' }).hostname, '::1');
  assert.equal(readAmqpEndpoint({ url: 'amqp://u@h' }).vhost, '/');
});

test('what --amqp-url, --amqp-password-file and --amqp-ca-file refuse', () => {
  assert.throws(() => readAmqpEndpoint({ url: 'http://u@h/' }), refused(/--amqp-url .* must be an amqp or amqps URL, not http:/));
  assert.throws(() => readAmqpEndpoint({ url: 'rabbitmq:5672' }), refused(/--amqp-url .* must be an amqp or amqps URL/));
  assert.throws(() => readAmqpEndpoint({ url: 'amqp://u@h:0/' }), refused(/has port 0/));
  assert.throws(() => readAmqpEndpoint({ url: 'amqp://u@h/a/b' }), refused(/more than a vhost/));
  assert.throws(() => readAmqpEndpoint({ url: 'amqp://u@h/?heartbeat=5' }), refused(/query or fragment/));
  assert.throws(() => readAmqpEndpoint({ url: 'amqp://h/', passwordFile: secretFile('p') }), refused(/names no user for the password/));
  assert.throws(() => readAmqpEndpoint({ url: 'amqp://u@h/', passwordFile: '/nonexistent/password' }), refused(/^--amqp-password-file .* cannot be read \(ENOENT\)/));
  assert.throws(() => readAmqpEndpoint({ url: 'amqp://u@h/', passwordFile: secretFile('') }), refused(/--amqp-password-file .* is empty/));
  assert.throws(() => readAmqpEndpoint({ url: 'amqp://u@h/', caFile: secretFile('x') }), refused(/--amqp-ca-file .* is for TLS; use an amqps:\/\/ URL/));
  assert.throws(() => readAmqpEndpoint({ url: 'amqps://u@h/', caFile: secretFile('not a certificate') }), refused(/--amqp-ca-file .* holds no PEM certificate/));
});
