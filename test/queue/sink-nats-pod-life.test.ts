// Pod life through the queue, on a real nats-server: a rollout and a scale-down (every record registered once and
// retired once), and a container restart with a readiness flap inside one pod (the record stays, no deregistration
// is published), also when the publisher itself is replaced while the container is not ready: the new publisher has
// not confirmed that record yet, and its inventory must still not let the consumer retire it.
import assert from 'node:assert/strict';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { startNatsServer, type NatsServer } from '../support/brokers/nats-server.ts';
import { SELECTED, startScene, untilReady, waitFor, type ControllerProcess, type Scene } from '../support/controller/controller-run.ts';
import { uidOf } from '../support/controller/observe.ts';
import { turnReady } from '../support/controller/pod-hooks.ts';
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

const pod = (name: string, app = 'web') => ({ name, namespace: 'shop', labels: { app, ...SELECTED } });
const natsFlags = () => ['--nats-url', nats.url, '--nats-token-file', nats.tokenFile];
const names = () => [...scene.cmdb.records.values()].filter((record) => record.state === 'ready').map((record) => record.pod.name).sort();
const startPublisher = () => scene.start(['--sink', 'nats', ...natsFlags(), '--leader-elect=false', '--orphan-grace', '0s', '--resync', '2s'], {}, { cmdb: false });

async function readyOrFail(process: ControllerProcess): Promise<void> {
  assert.ok(await untilReady(process), process.stderr());
}

/** The type header of every message stored on one record's subject. */
async function typesOn(recordId: string): Promise<string[]> {
  const { jsm, connection } = await admin(nats);
  try {
    const info = await jsm.streams.info('CMDB_HOOK');
    const types: string[] = [];
    for (let seq = info.state.first_seq; seq <= info.state.last_seq; seq++) {
      const stored = await jsm.streams.getMessage('CMDB_HOOK', { seq }).catch(() => null);
      if (stored?.subject.endsWith(`.record.${recordId}`)) types.push(stored.header.get('Cmdb-Hook-Type'));
    }
    return types;
  } finally {
    await connection.close();
  }
}

test('a rollout and a scale-down: every record registered once and retired once', async () => {
  for (const name of ['web-old-a', 'web-old-b', 'web-old-c']) scene.api.addPod(pod(name));
  const publisher = startPublisher();
  const consumer = scene.start(['--source', 'nats', ...natsFlags(), '--orphan-grace', '0s'], {}, { command: 'consume' });
  await Promise.all([publisher, consumer].map(readyOrFail));
  assert.ok(await waitFor(() => names().length === 3, 15_000), consumer.stderr());

  // The new ReplicaSet's pods start not ready and turn ready one by one; an old pod goes after each.
  for (const [fresh, old] of [['web-new-a', 'web-old-a'], ['web-new-b', 'web-old-b'], ['web-new-c', 'web-old-c']] as const) {
    scene.api.addPod({ ...pod(fresh), ready: false });
    await sleep(300);
    turnReady(scene.api, 'shop', fresh);
    assert.ok(await waitFor(() => names().includes(fresh), 15_000), consumer.stderr());
    scene.api.deletePod('shop', old, 0);
    assert.ok(await waitFor(() => !names().includes(old), 15_000), consumer.stderr());
  }
  // Scale down to two. (Down to one would be two of three records at once: more than half, which the controller
  // holds back whatever the sink, as a lost node or a broken list is more likely.)
  scene.api.deletePod('shop', 'web-new-c', 0);
  assert.ok(await waitFor(() => names().join() === 'web-new-a,web-new-b' && scene.cmdb.records.size === 2, 15_000), JSON.stringify(names()) + publisher.stderr());
  await sleep(4_000); // two more full passes and inventories: nothing more may happen

  const writes = scene.cmdb.writes();
  const count = (method: string) => new Map(writes.filter((entry) => entry.method === method).map((entry) => [entry.path, writes.filter((other) => other.method === method && other.path === entry.path).length]));
  const puts = count('PUT');
  const deletes = count('DELETE');
  assert.equal(puts.size, 6, 'six pods registered');
  assert.ok([...puts.values()].every((n) => n === 1), `each registered once: ${JSON.stringify([...puts])}`);
  assert.equal(deletes.size, 4, 'four pods retired');
  assert.ok([...deletes.values()].every((n) => n === 1), `each retired once: ${JSON.stringify([...deletes])}`);
  for (const each of [publisher, consumer]) assert.equal(await each.stop(), 0, each.stderr());
});

test('a container restart and a readiness flap, the publisher replaced meanwhile: the record stays, no deregistration published', async () => {
  scene.api.addPod(pod('flap-0', 'flap'));
  const id = `${uidOf(scene.api, 'shop', 'flap-0')}_app`;
  let publisher = startPublisher();
  const consumer = scene.start(['--source', 'nats', ...natsFlags(), '--orphan-grace', '0s'], {}, { command: 'consume' });
  await Promise.all([publisher, consumer].map(readyOrFail));
  assert.ok(await waitFor(() => scene.cmdb.records.get(id)?.state === 'ready', 15_000), consumer.stderr());

  // Readiness flap: the probe fails, then passes again.
  const notReady = (restarted: boolean) =>
    scene.api.modifyPod('shop', 'flap-0', (object) => {
      const status = object.status as { conditions: { type: string; status: string }[]; containerStatuses: Record<string, unknown>[] };
      for (const condition of status.conditions) if (condition.type === 'Ready' || condition.type === 'ContainersReady') condition.status = 'False';
      for (const container of status.containerStatuses) {
        container.ready = false;
        if (restarted) {
          container.restartCount = Number(container.restartCount) + 1;
          container.lastState = { terminated: { exitCode: 137, reason: 'Error', startedAt: '2026-12-02T10:00:00Z', finishedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') } };
          container.state = { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 10s restarting failed container' } };
          container.started = false;
        }
      }
    });
  notReady(false);
  await sleep(3_000);
  turnReady(scene.api, 'shop', 'flap-0');
  await sleep(3_000);

  // The container restarts: not ready, and while it is, the publisher is replaced (a rollout of the controller).
  notReady(true);
  await sleep(1_000);
  assert.equal(await publisher.stop(), 0, publisher.stderr());
  publisher = startPublisher();
  await readyOrFail(publisher);
  await sleep(6_000); // three full passes of the new publisher, each with its inventory
  scene.api.modifyPod('shop', 'flap-0', (object) => {
    for (const container of (object.status as { containerStatuses: Record<string, unknown>[] }).containerStatuses) {
      container.state = { running: { startedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z') } };
      container.started = true;
    }
  });
  turnReady(scene.api, 'shop', 'flap-0');
  await sleep(3_000);

  assert.equal(scene.cmdb.records.get(id)?.state, 'ready', `the record is there at the end\n${consumer.stderr().slice(-3000)}`);
  assert.deepEqual(scene.cmdb.writes().filter((entry) => entry.method === 'DELETE' && entry.path.endsWith(id)), [], 'never removed from the CMDB');
  const types = await typesOn(id);
  assert.ok(types.length >= 1 && types.every((type) => type === 'io.cmdb-hook.container.registered'), `no deregistration published: ${JSON.stringify(types)}`);
  for (const each of [publisher, consumer]) assert.equal(await each.stop(), 0, each.stderr());
});
