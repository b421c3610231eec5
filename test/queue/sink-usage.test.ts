// Usage errors of the queue path: exit 2 with one line naming the setting (flag and env var), before any network
// traffic; no CMDB flag is needed with --sink nats.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runHook } from '../support/run-hook.ts';

const cases: { name: string; args: string[]; env?: Record<string, string>; names: RegExp }[] = [
  { name: '--sink nats without --nats-url', args: ['controller', '--cluster', 'c1', '--sink', 'nats'], names: /--nats-url \(CMDB_HOOK_NATS_URL\) is required/ },
  { name: 'CMDB_HOOK_SINK=nats without a NATS URL', args: ['controller', '--cluster', 'c1'], env: { CMDB_HOOK_SINK: 'nats' }, names: /--nats-url \(CMDB_HOOK_NATS_URL\) is required/ },
  { name: 'consume without --nats-url', args: ['consume', '--cluster', 'c1', '--cmdb-url', 'http://127.0.0.1:9/records'], names: /--nats-url \(CMDB_HOOK_NATS_URL\) is required/ },
  { name: 'consume without --cluster', args: ['consume', '--nats-url', 'nats://127.0.0.1:9', '--cmdb-url', 'http://127.0.0.1:9/records'], names: /--cluster \(CMDB_HOOK_CLUSTER\) is required/ },
  { name: 'consume without --cmdb-url', args: ['consume', '--cluster', 'c1', '--nats-url', 'nats://127.0.0.1:9'], names: /--cmdb-url \(CMDB_HOOK_CMDB_URL\) is required: set it to the CMDB API base URL$/ },
  { name: '--sink rabbitmq without --amqp-url', args: ['controller', '--cluster', 'c1', '--sink', 'rabbitmq'], names: /--amqp-url \(CMDB_HOOK_AMQP_URL\) is required/ },
  { name: 'CMDB_HOOK_SOURCE=rabbitmq without an AMQP URL', args: ['consume', '--cluster', 'c1', '--cmdb-url', 'http://127.0.0.1:9/records'], env: { CMDB_HOOK_SOURCE: 'rabbitmq' }, names: /--amqp-url \(CMDB_HOOK_AMQP_URL\) is required/ },
  { name: 'an AMQP URL with a password', args: ['consume', '--cluster', 'c1', '--cmdb-url', 'http://127.0.0.1:9/records', '--source', 'rabbitmq', '--amqp-url', 'amqp://cmdb-hook:hunter2@127.0.0.1:9/'], names: /--amqp-url \(CMDB_HOOK_AMQP_URL\) must not hold a password; put it in a file and use --amqp-password-file \(CMDB_HOOK_AMQP_PASSWORD_FILE\)/ },
  { name: 'an AMQP setting without --sink rabbitmq', args: ['controller', '--cluster', 'c1', '--sink', 'nats', '--nats-url', 'nats://127.0.0.1:9', '--amqp-queue', 'q'], names: /--amqp-queue \(CMDB_HOOK_AMQP_QUEUE\) is only used with --sink \(CMDB_HOOK_SINK\) rabbitmq/ },
  { name: 'an --amqp-exchange the broker keeps for itself', args: ['controller', '--cluster', 'c1', '--sink', 'rabbitmq', '--amqp-url', 'amqp://cmdb-hook@127.0.0.1:9/', '--amqp-exchange', 'amq.topic'], names: /--amqp-exchange \(CMDB_HOOK_AMQP_EXCHANGE\) "amq.topic" is not a name cmdb-hook can declare/ },
  { name: 'a --cluster no routing key can hold', args: ['consume', '--cluster', 'c.1', '--cmdb-url', 'http://127.0.0.1:9/records', '--source', 'rabbitmq', '--amqp-url', 'amqp://cmdb-hook@127.0.0.1:9/'], names: /--cluster \(CMDB_HOOK_CLUSTER\) "c.1" cannot be one word of an AMQP routing key/ },
  { name: 'a missing --amqp-password-file', args: ['controller', '--cluster', 'c1', '--sink', 'rabbitmq', '--amqp-url', 'amqp://cmdb-hook@127.0.0.1:9/', '--amqp-password-file', '/nonexistent/amqp-password'], names: /--amqp-password-file \(CMDB_HOOK_AMQP_PASSWORD_FILE\)/ },
  { name: 'an unknown --sink', args: ['controller', '--cluster', 'c1', '--sink', 'kafka'], names: /--sink \(CMDB_HOOK_SINK\) "kafka" is not known; use cmdb or nats or rabbitmq/ },
  { name: '--cmdb-url with --sink nats', args: ['controller', '--cluster', 'c1', '--sink', 'nats', '--nats-url', 'nats://127.0.0.1:9', '--cmdb-url', 'http://127.0.0.1:9/records'], names: /--cmdb-url \(CMDB_HOOK_CMDB_URL\) is not used with --sink/ },
  { name: '--deregister-action with --sink nats', args: ['controller', '--cluster', 'c1', '--sink', 'nats', '--nats-url', 'nats://127.0.0.1:9'], env: { CMDB_HOOK_DEREGISTER_ACTION: 'retire' }, names: /--deregister-action \(CMDB_HOOK_DEREGISTER_ACTION\) is not used with --sink \(CMDB_HOOK_SINK\) nats: the consumers/ },
  { name: 'a NATS setting without --sink nats', args: ['controller', '--cluster', 'c1', '--cmdb-url', 'http://127.0.0.1:9/records', '--nats-url', 'nats://127.0.0.1:9'], names: /--nats-url \(CMDB_HOOK_NATS_URL\) is only used with --sink \(CMDB_HOOK_SINK\) nats/ },
  { name: 'both NATS credentials', args: ['consume', '--cluster', 'c1', '--cmdb-url', 'http://127.0.0.1:9/records', '--nats-url', 'nats://127.0.0.1:9', '--nats-token-file', '/dev/null', '--nats-creds-file', '/dev/null'], names: /--nats-token-file \(CMDB_HOOK_NATS_TOKEN_FILE\) and --nats-creds-file \(CMDB_HOOK_NATS_CREDS_FILE\) were both given/ },
  { name: 'a NATS URL with a password', args: ['consume', '--cluster', 'c1', '--cmdb-url', 'http://127.0.0.1:9/records', '--nats-url', 'nats://user:hunter2@127.0.0.1:9'], names: /--nats-url \(CMDB_HOOK_NATS_URL\) must not carry credentials/ },
  { name: 'a --cluster no NATS subject can hold', args: ['controller', '--cluster', 'c.1', '--sink', 'nats', '--nats-url', 'nats://127.0.0.1:9'], names: /--cluster \(CMDB_HOOK_CLUSTER\) "c.1" cannot be part of a NATS subject/ },
  { name: '--dry-run with --sink nats', args: ['controller', '--cluster', 'c1', '--sink', 'nats', '--nats-url', 'nats://127.0.0.1:9', '--dry-run'], names: /--dry-run \(CMDB_HOOK_DRY_RUN\) prints the plan against the CMDB's records, and --sink \(CMDB_HOOK_SINK\) nats has none/ },
  { name: '--concurrency 0', args: ['consume', '--cluster', 'c1', '--cmdb-url', 'http://127.0.0.1:9/records', '--nats-url', 'nats://127.0.0.1:9', '--concurrency', '0'], names: /--concurrency \(CMDB_HOOK_CONCURRENCY\) "0" is not a whole number from 1 to 256/ },
];

for (const { name, args, env, names } of cases) {
  test(`usage error: ${name} exits 2 naming the setting`, async () => {
    const run = await runHook(args, { env: { ...env }, killAfterMs: 15_000 });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.summary, names);
    assert.doesNotMatch(run.stderr, /hunter2/);
  });
}
