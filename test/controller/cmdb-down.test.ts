// Scenario 9 of the controller: the CMDB goes down (its server closed: connections refused) in the middle of a
// rollout, and comes back on the same port with what it held. The new pods' records and the old pods' retirements
// wait; once the CMDB answers again the controller converges, loses nothing, writes each record once, and keeps to
// --cmdb-rate (a sliding window: at most rate writes in any one second; the bound below allows one more).
// The outage lasts 15 s, not the 60 s: the queue's per-record backoff reaches its 30 s cap during a 60 s
// outage, so the file would run past 90 s; 15 s already takes every key through several failed attempts.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';
import { startSandboxCmdb, type SandboxCmdb } from '../support/sandbox-cmdb.ts';

const OUTAGE_MS = 15_000;
const RATE = 5;
const BURST = 1; // slack for the sandbox's clock against the controller's
const NEW_PODS = 24;

let scene: Scene;
let reopened: SandboxCmdb | undefined;
const file = join(mkdtempSync(join(tmpdir(), 'cmdb-hook-down-')), 'records.json');
before(async () => {
  scene = await startScene({ cmdb: { file } });
});
after(async () => {
  await scene.close();
  // The scene closes the sandbox it started; the one started again on its port is this file's.
  await reopened?.close();
});

const selected = (name: string) => ({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });

/** The most writes the sandbox answered within any one second. */
function busiestSecond(times: number[]): number {
  let most = 0;
  for (let first = 0, last = 0; last < times.length; last++) {
    while ((times[last] ?? 0) - (times[first] ?? 0) >= 1000) first++;
    most = Math.max(most, last - first + 1);
  }
  return most;
}

test('the CMDB down during a rollout: nothing lost, each record written once, the rate held when it is back', async (t) => {
  const old = ['web-old-a', 'web-old-b', 'web-old-c', 'web-old-d'];
  for (const name of old) scene.api.addPod(selected(name));
  const controller = scene.start(['--orphan-grace', '1s', '--leader-elect=false', '--cmdb-rate', String(RATE)]);
  assert.ok(await untilReady(controller), controller.stderr());
  assert.ok(await waitFor(() => scene.cmdb.records.size === 4, 10_000));
  const port = Number(new URL(scene.cmdb.origin).port);

  await scene.cmdb.close();
  const downAt = performance.now();
  for (let index = 0; index < NEW_PODS; index++) scene.api.addPod(selected(`web-new-${String(index).padStart(2, '0')}`));
  for (const name of old) scene.api.deletePod('shop', name, 0);
  // The outage itself is the scene's fixed time; the controller meanwhile retries and nothing lands.
  await sleep(Math.max(0, OUTAGE_MS - (performance.now() - downAt)));
  const metricsDown = (await controller.get('/metrics')).body;
  assert.match(metricsDown, new RegExp(`^cmdb_hook_controller_queue_depth ${NEW_PODS}$`, 'm'), 'every new record waits in the queue');
  assert.match(metricsDown, /^cmdb_hook_controller_writes_total\{action="create",outcome="ok"\} 4$/m);

  reopened = await startSandboxCmdb({ port, file });
  scene.cmdb = reopened;
  const backAt = performance.now();
  assert.equal(scene.cmdb.records.size, 4, 'the CMDB comes back with what it held');
  const converged = () => scene.cmdb.records.size === NEW_PODS && [...scene.cmdb.records.values()].every((record) => record.pod.name.startsWith('web-new-') && record.state === 'ready');
  assert.ok(await waitFor(converged, 45_000), JSON.stringify([...scene.cmdb.records.values()].map((record) => record.pod.name)));
  const tookMs = performance.now() - backAt;

  const writes = scene.cmdb.writes();
  const paths = writes.map((entry) => `${entry.method} ${entry.path}`);
  assert.equal(writes.filter((entry) => entry.method === 'PUT').length, NEW_PODS, paths.join('\n'));
  assert.equal(writes.filter((entry) => entry.method === 'DELETE').length, old.length, paths.join('\n'));
  assert.equal(new Set(paths).size, paths.length, 'no record written twice');
  assert.ok(writes.every((entry) => entry.status === 201 || entry.status === 204), 'every write after the outage landed');
  const busiest = busiestSecond(writes.map((entry) => entry.at));
  assert.ok(busiest <= RATE + BURST, `${busiest} writes in one second; --cmdb-rate ${RATE}, burst ${BURST}`);
  t.diagnostic(`outage ${OUTAGE_MS} ms; converged ${Math.round(tookMs)} ms after the CMDB came back; ${writes.length} writes; busiest second: ${busiest}`);

  const metrics = (await controller.get('/metrics')).body;
  assert.match(metrics, /^cmdb_hook_controller_queue_depth 0$/m);
  assert.match(metrics, new RegExp(`^cmdb_hook_controller_writes_total\\{action="create",outcome="ok"\\} ${4 + NEW_PODS}$`, 'm'));
  assert.match(metrics, new RegExp(`^cmdb_hook_controller_writes_total\\{action="retire",outcome="ok"\\} ${old.length}$`, 'm'));
  // Events are posted after each write lands (and rate-limited): wait for them.
  const count = (reason: string) => scene.api.events('shop').filter((event) => (event as { reason?: string }).reason === reason).length;
  assert.ok(await waitFor(() => count('CMDBRegistered') === 4 + NEW_PODS && count('CMDBRetired') === old.length, 10_000), `${count('CMDBRegistered')} registered, ${count('CMDBRetired')} retired`);
  assert.equal(count('CMDBFailed'), 0, 'an outage is no refusal');
  assert.equal(await controller.stop(), 0);
});
