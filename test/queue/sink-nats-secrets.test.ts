// The NATS token never shows: not in the argv or the environment of the publisher and the consumer (/proc), not in
// their logs at debug level, not in /metrics, /healthz, /readyz, not in the messages they store, and not in the
// errors they give when the server refuses it: at start (exit 2 naming --nats-token-file) and after a rotation the
// file has not caught up with yet (a warning, reconnecting).
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startNatsServer, type NatsServer } from '../support/brokers/nats-server.ts';
import { SELECTED, startScene, untilReady, waitFor, type ControllerProcess, type Scene } from '../support/controller/controller-run.ts';
import { admin } from './nats-support.ts';

let scene: Scene;
let nats: NatsServer;
before(async () => {
  nats = await startNatsServer();
  scene = await startScene();
});
after(async () => {
  await scene.close();
  await nats.dispose();
});

const natsFlags = (tokenFile = nats.tokenFile) => ['--nats-url', nats.url, '--nats-token-file', tokenFile];

/** Everything of a running process a token could leak into, as text. */
async function exposed(process: ControllerProcess): Promise<string> {
  const pid = process.child.pid ?? 0;
  const proc = ['cmdline', 'environ'].map((file) => readFileSync(`/proc/${pid}/${file}`, 'utf8')).join('\n');
  const endpoints = await Promise.all(['/metrics', '/healthz', '/readyz'].map((path) => process.get(path).then((answer) => answer.body)));
  return [proc, ...endpoints, process.stdout(), process.stderr()].join('\n');
}

test('the NATS token is in no argv, environment, log, endpoint, message or error', async () => {
  scene.api.addPod({ name: 'web-a', namespace: 'shop', labels: { app: 'web', ...SELECTED } });
  const publisher = scene.start(['--sink', 'nats', ...natsFlags(), '--leader-elect=false', '--log-level', 'debug'], {}, { cmdb: false });
  const consumer = scene.start(['--source', 'nats', ...natsFlags(), '--log-level', 'debug'], {}, { command: 'consume' });
  for (const each of [publisher, consumer]) assert.ok(await untilReady(each), each.stderr());
  assert.ok(await waitFor(() => scene.cmdb.records.size === 1, 15_000), consumer.stderr());
  const { token } = nats;
  for (const each of [publisher, consumer]) assert.ok(!(await exposed(each)).includes(token), 'the token shows in a running process');

  const { jsm, connection } = await admin(nats);
  try {
    const info = await jsm.streams.info('CMDB_HOOK');
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const stored = await jsm.streams.getMessage('CMDB_HOOK', { seq });
      const headers = [...(stored?.header ?? [])].flat(2).join(' ');
      assert.ok(stored && !new TextDecoder().decode(stored.data).includes(token) && !headers.includes(token), `message ${seq} carries the token`);
    }
  } finally {
    await connection.close();
  }

  // The server's token rotated before the Secret's file: refused while reconnecting, said without either token.
  const rotated = 'rotated-token-0d3c9b7e41f2a6';
  nats.setToken(rotated);
  await nats.stop();
  await nats.start();
  const refused = (each: ControllerProcess) => each.stderr().includes('the server refused the credential');
  assert.ok(await waitFor(() => refused(publisher) && refused(consumer), 20_000), publisher.stderr().slice(-2000));
  writeFileSync(nats.tokenFile, `${rotated}\n`);
  assert.ok(await waitFor(() => [publisher, consumer].every((each) => each.logs().some((line) => line.msg === 'reconnected to NATS')), 20_000), consumer.stderr().slice(-2000));
  for (const each of [publisher, consumer]) {
    const seen = await exposed(each);
    assert.ok(!seen.includes(token) && !seen.includes(rotated), 'a token shows after the rotation');
    assert.equal(await each.stop(), 0, each.stderr());
  }

  // A wrong token at start: exit 2, the setting named, no token.
  const wrong = join(scene.dir, 'wrong-token');
  writeFileSync(wrong, 'wrong-token-5e8a1c\n', { mode: 0o600 });
  const failed = scene.start(['--source', 'nats', ...natsFlags(wrong)], {}, { command: 'consume' });
  assert.equal(await failed.exited, 2, failed.stderr());
  assert.match(failed.stderr(), /refused the credential in --nats-token-file \(CMDB_HOOK_NATS_TOKEN_FILE\)/);
  for (const secret of [token, rotated, 'wrong-token-5e8a1c']) assert.ok(!failed.stderr().includes(secret), 'a token shows in the error');
});
