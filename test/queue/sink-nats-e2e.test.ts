// The queue path end to end on a real nats-server: the Kubernetes API stand-in as the source, two controllers with
// --sink nats publishing at once (both --leader-elect=false: the worst case of a leader handover, every transition
// published twice), one `cmdb-hook consume`, the sandbox CMDB at the end. Asserted on the CMDB's final state and its
// request log: every record registered once and removed once, and a CMDB outage during consume loses nothing.
// The outage lasts 60 s, as the issue names it: the consumer's backoff doubles per delivery from 200 ms up to 30 s, so
// each waiting message is tried at most ~9 times in it, and the next try after the CMDB is back comes within 30 s.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { jetstream } from '@nats-io/jetstream';
import { startNatsServer, type NatsServer } from '../support/brokers/nats-server.ts';
import { SELECTED, startScene, untilReady, waitFor, type ControllerProcess, type Scene } from '../support/controller/controller-run.ts';
import { startSandboxCmdb, type SandboxCmdb } from '../support/sandbox-cmdb.ts';
import { admin } from './nats-support.ts';

const OUTAGE_MS = 60_000;

let scene: Scene;
let nats: NatsServer;
let reopened: SandboxCmdb | undefined;
const file = join(mkdtempSync(join(tmpdir(), 'cmdb-hook-sink-')), 'records.json');
before(async () => {
  nats = await startNatsServer();
  scene = await startScene({ cmdb: { file } });
});
after(async () => {
  await scene.close();
  await reopened?.close();
  await nats.dispose();
});

const selected = (name: string) => ({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });
const natsFlags = () => ['--nats-url', nats.url, '--nats-token-file', nats.tokenFile];
const names = (cmdb: SandboxCmdb) => [...cmdb.records.values()].filter((record) => record.state === 'ready').map((record) => record.pod.name).sort();

async function readyOrFail(process: ControllerProcess): Promise<void> {
  assert.ok(await untilReady(process), process.stderr());
}

test('two publishers and one consumer: each transition written once, a deleted pod removed, a CMDB outage loses nothing', async (t) => {
  for (const name of ['web-a', 'web-b', 'web-c']) scene.api.addPod(selected(name));
  const publishers = [0, 1].map(() => scene.start(['--sink', 'nats', ...natsFlags(), '--leader-elect=false', '--orphan-grace', '0s'], {}, { cmdb: false }));
  const consumer = scene.start(['--source', 'nats', ...natsFlags()], {}, { command: 'consume' });
  await Promise.all([...publishers, consumer].map(readyOrFail));

  assert.ok(await waitFor(() => names(scene.cmdb).join() === 'web-a,web-b,web-c', 15_000), JSON.stringify(names(scene.cmdb)) + consumer.stderr());
  scene.api.deletePod('shop', 'web-a', 0);
  assert.ok(await waitFor(() => !names(scene.cmdb).includes('web-a'), 15_000), consumer.stderr());

  const port = Number(new URL(scene.cmdb.origin).port);
  const before = scene.cmdb.writes().length;
  await scene.cmdb.close();
  for (const name of ['web-d', 'web-e']) scene.api.addPod(selected(name));
  scene.api.deletePod('shop', 'web-b', 0);
  await sleep(OUTAGE_MS);
  reopened = await startSandboxCmdb({ port, file });
  scene.cmdb = reopened;
  const backAt = performance.now();
  assert.ok(await waitFor(() => names(scene.cmdb).join() === 'web-c,web-d,web-e' && scene.cmdb.records.size === 3, 60_000), JSON.stringify(names(scene.cmdb)) + consumer.stderr());
  const tookMs = performance.now() - backAt;

  // The sandbox started again keeps its own log: the writes before the outage were counted above.
  const writes = scene.cmdb.writes();
  const paths = writes.map((entry) => `${entry.method} ${entry.path}`);
  assert.equal(writes.filter((entry) => entry.method === 'PUT').length, 2, paths.join('\n'));
  assert.equal(writes.filter((entry) => entry.method === 'DELETE').length, 1, paths.join('\n'));
  assert.equal(new Set(paths).size, paths.length, 'no record written twice after the outage');
  assert.equal(before, 4, 'before the outage: three registrations and one removal, each once, from two publishers');

  const logs = consumer.logs();
  const retried = logs.filter((line) => typeof line.msg === 'string' && line.msg.includes('the CMDB failed; the message comes again')).length;
  assert.ok(retried > 0, 'the consumer saw the outage and retried');
  // No hot loop: the backoff doubles from 200 ms (0.2 + 0.4 + ... + 25.6 s = 51 s at the least), so a waiting message
  // is tried at most 9 times in the outage, and once more after it.
  assert.ok(retried <= 3 * 10, `${retried} retries in ${OUTAGE_MS} ms for 3 messages`);
  const published = publishers.flatMap((publisher) => publisher.logs()).filter((line) => typeof line.msg === 'string' && line.msg.includes('published'));
  const duplicates = published.filter((line) => line.duplicate === true).length;
  t.diagnostic(`published ${published.length} time(s) by two publishers, ${duplicates} dropped by JetStream as duplicates; ${retried} retries during the outage; converged ${Math.round(tookMs)} ms after the CMDB came back`);
  for (const each of [...publishers, consumer]) {
    assert.equal(await each.stop(), 0, each.stderr());
    assert.ok(!each.stderr().includes(nats.token) && !each.child.spawnargs.join(' ').includes(nats.token), 'the NATS token shows nowhere');
  }
});

test('an inventory retires what a lost message left behind, and nothing else', async () => {
  // A record of this cluster whose pod is gone and whose deregistration never came (a message lost before the
  // broker, a publisher that was down): written straight into the CMDB, observed an hour ago.
  const live = names(scene.cmdb);
  const [template] = [...scene.cmdb.records.values()];
  assert.ok(template, 'the records of the first test are there');
  const uid = '0b6a1c1e-1111-4222-8333-944455556666';
  const container = String((template as { container?: unknown }).container);
  const stale = { ...template, id: `${uid}_${container}`, pod: { ...template.pod, name: 'web-lost', uid }, observedAt: new Date(Date.now() - 3_600_000).toISOString() };
  const put = await fetch(`${scene.cmdb.url}/${stale.id}`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: JSON.stringify(stale) });
  assert.ok(put.ok, `the sandbox took the stale record: ${put.status}`);

  const publisher = scene.start(['--sink', 'nats', ...natsFlags(), '--leader-elect=false'], {}, { cmdb: false });
  const consumer = scene.start(['--source', 'nats', ...natsFlags(), '--orphan-grace', '0s'], {}, { command: 'consume' });
  await Promise.all([publisher, consumer].map(readyOrFail));
  assert.ok(await waitFor(() => !scene.cmdb.records.has(stale.id), 15_000), consumer.stderr());
  assert.deepEqual(names(scene.cmdb), live, 'the live records stay');
  assert.ok(consumer.logs().some((line) => typeof line.msg === 'string' && /inventory \S+ complete: 1 record\(s\) to retire/.test(line.msg)), consumer.stderr());
  for (const each of [publisher, consumer]) assert.equal(await each.stop(), 0, each.stderr());
});

test('a poison message among real ones: dead-lettered with one log line, the rest flows', async () => {
  const publisher = scene.start(['--sink', 'nats', ...natsFlags(), '--leader-elect=false'], {}, { cmdb: false });
  const consumer = scene.start(['--source', 'nats', ...natsFlags()], {}, { command: 'consume' });
  await Promise.all([publisher, consumer].map(readyOrFail));
  const { connection } = await admin(nats);
  try {
    await jetstream(connection).publish('cmdb-hook.scene.record.0b6a1c1e-2222-4222-8333-944455556666_app', new TextEncoder().encode('not json'), { msgID: 'poison-1' });
  } finally {
    await connection.close();
  }
  scene.api.addPod(selected('web-f'));
  assert.ok(await waitFor(() => names(scene.cmdb).includes('web-f'), 15_000), consumer.stderr());
  assert.ok(await waitFor(() => consumer.logs().some((line) => line.msg === 'dead-lettered a message: the body is not JSON (8 bytes)'), 5_000), consumer.stderr());
  assert.equal(consumer.logs().filter((line) => typeof line.msg === 'string' && line.msg.startsWith('dead-lettered')).length, 1);
  for (const each of [publisher, consumer]) assert.equal(await each.stop(), 0, each.stderr());
});
