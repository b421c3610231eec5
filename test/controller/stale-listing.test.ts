// A full pass lists the CMDB page by page while the work queue keeps writing, so a listing can predate writes that
// landed before the plan was made. The sandbox answers each listing page as the CMDB was when asked, 600 ms later;
// the writes go at 2 a second and a full pass runs every second, so several passes list while writes land. Each
// record must still be written once: what landed during a listing counts, not the listing's older view.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';
import { untilMetric } from '../support/controller/observe.ts';

let scene: Scene;
before(async () => {
  scene = await startScene();
});
after(() => scene.close());

test('writes that land while a pass lists the CMDB are not written again by that pass', async () => {
  const names = Array.from({ length: 8 }, (_, index) => `web-${index}`);
  for (const name of names) scene.api.addPod({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });
  scene.cmdb.injectFault({ method: 'GET', staleMs: 600, times: Number.POSITIVE_INFINITY });

  const controller = scene.start(['--resync', '1s', '--cmdb-rate', '2', '--cmdb-concurrency', '1']);
  assert.ok(await untilReady(controller, 20_000), controller.stderr());
  assert.ok(await waitFor(() => scene.cmdb.records.size === names.length, 20_000), controller.stderr());
  // Two more passes after the last write: a pass that still planned a create would have written it by then.
  const passes = controller.logs().filter((line) => String(line.msg).startsWith('full pass:')).length;
  assert.ok(await untilMetric(controller, 'controller_passes_total', '{result="ok"}', (value) => (value ?? 0) >= passes + 2, 15_000), controller.stderr());
  await controller.stop();

  const listings = scene.cmdb.requests.filter((request) => request.method === 'GET');
  const puts = scene.cmdb.writes().map((request) => `${request.method} ${request.path}`);
  assert.ok(listings.length >= 4, `the CMDB was listed by several passes (${listings.length} listings)`);
  assert.equal(puts.length, names.length, `each record written once:\n${puts.join('\n')}\n${controller.stderr()}`);
  assert.equal(new Set(puts).size, puts.length);
});
