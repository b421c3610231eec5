// Scenario 2 of the controller: node loss. Every pod of node-1 disappears at once with no hook (the node is gone, the
// pod garbage collector force-deletes them): their records are retired after --orphan-grace, at most --max-retire
// per pass, the rest in the passes after. Then pods vanish by more than half of the records, first while the
// controller watches, then in the first list of a restarted controller: nothing is retired, an error is logged, and
// cmdb_hook_controller_retire_blocked says 1.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SELECTED, startScene, untilReady, waitFor, type ControllerProcess, type Scene } from '../support/controller/controller-run.ts';
import { eventsOf, listings, readMetric, uidOf, untilMetric } from '../support/controller/observe.ts';

const MAX_RETIRE = 2;
const ARGS = ['--orphan-grace', '1s', '--resync', '1s', '--max-retire', String(MAX_RETIRE)];

let scene: Scene;
before(async () => {
  scene = await startScene();
});
after(() => scene.close());

const passesOf = (controller: ControllerProcess) => controller.logs().filter((line) => String(line.msg).startsWith('full pass:')) as unknown as { actions: number; capped: number }[];
const deletes = () => scene.cmdb.writes().filter((request) => request.method === 'DELETE');

test('node loss: every record of the lost node retired, at most --max-retire per pass; more than half missing: nothing retired', async (t) => {
  const lost = ['a', 'b', 'c', 'd', 'e'].map((letter) => `web-1${letter}`);
  const kept = ['a', 'b', 'c', 'd', 'e', 'f', 'g'].map((letter) => `web-2${letter}`);
  for (const name of lost) scene.api.addPod({ name, namespace: 'shop', nodeName: 'node-1', labels: { app: 'web', ...SELECTED } });
  for (const name of kept) scene.api.addPod({ name, namespace: 'shop', nodeName: 'node-2', labels: { app: 'web', ...SELECTED } });
  const controller = scene.start(ARGS);
  assert.ok(await untilReady(controller), controller.stderr());
  assert.ok(await waitFor(() => scene.cmdb.records.size === 12, 10_000), 'twelve pods registered');
  assert.ok(await waitFor(() => passesOf(controller).at(-1)?.actions === 0, 10_000), 'converged');
  const passesBefore = passesOf(controller).length;

  const lostUids = new Set(lost.map((name) => uidOf(scene.api, 'shop', name)));
  for (const name of lost) scene.api.deletePod('shop', name, 0);
  const lostAt = performance.now();
  assert.ok(await untilMetric(controller, 'controller_retires_capped', '', (value) => (value ?? 0) > 0, 10_000), 'a pass held retirements back for --max-retire');
  assert.ok(await waitFor(() => deletes().length === lost.length, 15_000), `every record of node-1 is retired\n${controller.stderr()}`);
  assert.ok(performance.now() - lostAt >= 1000, 'not before the grace');

  assert.deepEqual(new Set(deletes().map((request) => request.path.split('/').at(-1)?.replace(/_app$/, ''))), lostUids, 'exactly node-1\'s records');
  assert.deepEqual([...scene.cmdb.records.values()].map((record) => record.node).filter((node) => (node as { name: string }).name !== 'node-2'), []);
  assert.equal(scene.cmdb.records.size, kept.length);
  const passes = passesOf(controller).slice(passesBefore);
  assert.ok(passes.every((pass) => pass.actions <= MAX_RETIRE), `no pass planned more than ${MAX_RETIRE}: ${JSON.stringify(passes)}`);
  assert.ok(passes.filter((pass) => pass.actions > 0).length >= Math.ceil(lost.length / MAX_RETIRE), 'the retirements spread over several passes');
  t.diagnostic(`passes after the loss, retirements planned (held back): ${passes.map((pass) => `${pass.actions} (${pass.capped})`).join(', ')}`);
  // Seen from the CMDB: between two listings (a pass each) at most --max-retire DELETEs.
  const marks = listings(scene.cmdb).map((request) => request.at);
  for (let index = 0; index < marks.length; index++) {
    const from = marks[index] ?? 0;
    const to = marks[index + 1] ?? Number.POSITIVE_INFINITY;
    assert.ok(deletes().filter((request) => request.at > from && request.at <= to).length <= MAX_RETIRE, 'at most --max-retire DELETEs per pass');
  }
  assert.ok(controller.logs().some((line) => line.level === 40 && String(line.msg).includes('held back by --max-retire')), 'the cap is logged');
  assert.ok(await waitFor(() => eventsOf(scene.api, 'shop', 'CMDBRetired').length === lost.length, 5000), 'an Event per retire');
  assert.ok(await untilMetric(controller, 'controller_writes_total', '{action="retire",outcome="ok"}', (value) => value === lost.length, 5000));
  assert.ok(await untilMetric(controller, 'controller_retires_capped', '', (value) => value === 0, 5000), 'nothing held back once done');
  assert.equal(await readMetric(controller, 'controller_retire_blocked'), 0);

  // Four of the seven pods left vanish at once: more than half of the records. Nothing is retired.
  const writes = scene.cmdb.writes().length;
  for (const name of kept.slice(0, 4)) scene.api.deletePod('shop', name, 0);
  assert.ok(await untilMetric(controller, 'controller_retire_blocked', '', (value) => value === 1, 10_000), `retire blocked\n${controller.stderr()}`);
  const blockedAfter = (await readMetric(controller, 'controller_passes_total', '{result="ok"}')) ?? 0;
  assert.ok(await untilMetric(controller, 'controller_passes_total', '{result="ok"}', (value) => (value ?? 0) >= blockedAfter + 2, 10_000), 'two more passes');
  assert.equal(scene.cmdb.writes().length, writes, 'nothing retired');
  assert.equal(scene.cmdb.records.size, kept.length);
  assert.ok(controller.logs().some((line) => line.level === 50 && /retire blocked: 4 of 7/.test(String(line.msg))), 'the error is logged');
  assert.equal(await controller.stop(), 0);

  // A restarted controller whose first list misses them too: still nothing.
  const next = scene.start(ARGS);
  assert.ok(await untilReady(next), next.stderr());
  assert.ok(await untilMetric(next, 'controller_retire_blocked', '', (value) => value === 1, 10_000), `retire blocked after the restart\n${next.stderr()}`);
  assert.ok(await untilMetric(next, 'controller_passes_total', '{result="ok"}', (value) => (value ?? 0) >= 4, 10_000), 'several passes');
  assert.equal(scene.cmdb.writes().length, writes, 'nothing retired');
  assert.ok(next.logs().some((line) => line.level === 50 && /retire blocked: 4 of 7/.test(String(line.msg))));
  assert.equal(await next.stop(), 0);
});
