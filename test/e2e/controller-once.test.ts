// Scenario 13 of the controller: `--once` (one full pass, then exit: 0 done, 5 when the CMDB failed, 2 for a usage
// error: a CronJob's contract) and `--dry-run` (the plan on stdout, nothing written; with --once one pass and exit 0,
// without it a plan per pass). Run on the bundle and, with CMDB_HOOK_TEST_BIN, on the single executable: the
// controller's code is its own bundle inside it, loaded only by this command.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { SELECTED, startScene, waitFor, type ControllerProcess, type Scene } from '../support/controller/controller-run.ts';

let scene: Scene;
before(async () => {
  scene = await startScene();
});
after(() => scene.close());

const selected = (name: string) => ({ name, namespace: 'shop', labels: { app: 'web', ...SELECTED } });
const summary = (run: ControllerProcess) => run.stderr().trimEnd().split('\n').at(-1) ?? '';
/** As the CronJob runs it: in V8's lite mode (`--node-options=--lite-mode` for the single executable). */
async function once(args: string[]): Promise<{ code: number | null; run: ControllerProcess }> {
  const run = scene.start(['--once', ...args], {}, { v8Flags: ['--lite-mode'] });
  return { code: await run.exited, run };
}

test('--dry-run --once: the plan on stdout, one line per action then the counts; nothing written; exit 0', async () => {
  const pods = ['web-a', 'web-b'].map((name) => scene.api.addPod(selected(name)));
  const { code, run } = await once(['--dry-run']);
  assert.equal(code, 0, run.stderr());
  const expected = pods.map((pod) => `create ${pod.metadata.uid ?? ''}_app shop/${pod.metadata.name ?? ''} app`).sort();
  const lines = run.stdout().trimEnd().split('\n');
  assert.deepEqual(lines.slice(0, 2).sort(), expected);
  assert.equal(lines[2], '2 to create, 0 to update, 0 to retire, 0 waiting for the orphan grace, 0 held back by max-retire');
  assert.equal(lines.length, 3, run.stdout());
  assert.match(summary(run), /planned 2 action\(s\) .*nothing written \(--dry-run\)/);
  assert.equal(scene.cmdb.writes().length, 0, 'nothing written');
  assert.equal(scene.api.events('shop').length, 0, 'no Event either');
  assert.equal(scene.api.lease('cmdb-hook', 'cmdb-hook-controller'), undefined, 'no part in leader election');
});

test('--once: one pass writes the records and exits 0; a second finds them in sync and retires an orphan past the grace', async () => {
  const first = await once([]);
  assert.equal(first.code, 0, first.run.stderr());
  assert.match(summary(first.run), /2 action\(s\) done in /);
  assert.equal(scene.cmdb.records.size, 2);
  assert.equal(scene.cmdb.writes().length, 2);

  // A pod gone with no hook: its record says it was last seen two hours ago, longer than --orphan-grace (60s).
  const gone = scene.api.pod('shop', 'web-b');
  scene.api.deletePod('shop', 'web-b', 0);
  const record = scene.cmdb.records.get(`${gone?.metadata.uid ?? ''}_app`);
  assert.ok(record);
  record.observedAt = new Date(Date.now() - 2 * 3600_000).toISOString();
  const second = await once([]);
  assert.equal(second.code, 0, second.run.stderr());
  assert.match(summary(second.run), /^.*1 action\(s\) done in /);
  assert.deepEqual([...scene.cmdb.records.values()].map((each) => each.pod.name), ['web-a']);
  assert.deepEqual(scene.cmdb.writes().slice(2).map((entry) => entry.method), ['DELETE'], 'web-a in sync: no write');
});

test('--once with the CMDB failing: exit 5 at the deadline, and the summary says what was not done', async () => {
  scene.api.addPod(selected('web-c'));
  scene.cmdb.injectFault({ status: 503, method: 'PUT', times: 1_000_000 });
  const started = performance.now();
  const { code, run } = await once(['--timeout', '3s']);
  scene.cmdb.clearFaults();
  assert.equal(code, 5, run.stderr());
  assert.ok(performance.now() - started < 3000 + 2000, 'ends at its --timeout');
  assert.match(summary(run), /FAILED: 1 of 1 action\(s\) not done .*; exit 5$/);
  assert.equal(scene.cmdb.records.size, 1, 'web-c not written');
});

test('usage errors exit 2 with one line naming the flag and its env var', async () => {
  const bogus = await once(['--policy', 'bogus']);
  assert.equal(bogus.code, 2, bogus.run.stderr());
  assert.match(summary(bogus.run), /--policy \(CMDB_HOOK_POLICY\) "bogus" is not known; use sync, upsert-only, create-only/);
  const timeout = scene.start(['--timeout', '5s']);
  assert.equal(await timeout.exited, 2, timeout.stderr());
  assert.match(summary(timeout), /--timeout \(CMDB_HOOK_TIMEOUT\) bounds a --once run/);
  assert.equal(scene.cmdb.writes().filter((entry) => entry.method === 'PUT' && entry.status === 201).length, 2, 'nothing more written');
});

test('--dry-run without --once: a plan printed for each pass, nothing written', async () => {
  const writes = scene.cmdb.writes().length;
  const run = scene.start(['--dry-run', '--resync', '1s']);
  const plans = () => run.stdout().split('\n').filter((line) => / to create, /.test(line));
  assert.ok(await waitFor(() => plans().length >= 2, 10_000), run.stdout() + run.stderr());
  assert.match(run.stdout(), /^create \S+_app shop\/web-c app$/m, 'web-c, never written, planned at each pass');
  assert.equal(plans()[0], '1 to create, 0 to update, 0 to retire, 0 waiting for the orphan grace, 0 held back by max-retire');
  assert.equal(await run.stop(), 0);
  assert.equal(scene.cmdb.writes().length, writes, 'nothing written');
});

test('--dry-run without --once, its reader gone (`| head` ended): it stops by itself, exit 0, nothing written', async () => {
  const writes = scene.cmdb.writes().length;
  const run = scene.start(['--dry-run', '--resync', '1s']);
  run.child.stdout?.destroy();
  const code = await Promise.race([run.exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 15_000))]);
  if (code === 'still running') await run.stop('SIGKILL');
  assert.equal(code, 0, run.stderr());
  assert.ok(run.logs().some((line) => line.msg === 'stdout was closed by its reader: the rest of the output is dropped'), run.stderr());
  assert.equal(scene.cmdb.writes().length, writes, 'nothing written');
});

test('--deregister-action retire (CMDB_HOOK_DEREGISTER_ACTION too): an orphan\'s record is kept, marked terminated, and written once', async () => {
  const pod = scene.api.addPod(selected('web-r'));
  assert.equal((await once([])).code, 0);
  const id = `${pod.metadata.uid ?? ''}_app`;
  const record = scene.cmdb.records.get(id);
  assert.ok(record);
  scene.api.deletePod('shop', 'web-r', 0);
  record.observedAt = new Date(Date.now() - 2 * 3600_000).toISOString();
  const writes = scene.cmdb.writes().length;
  const retired = await once(['--deregister-action', 'retire']);
  assert.equal(retired.code, 0, retired.run.stderr());
  assert.equal(scene.cmdb.records.get(id)?.state, 'terminated', retired.run.stderr());
  assert.deepEqual(scene.cmdb.writes().slice(writes).map((entry) => `${entry.method} ${entry.status}`), ['PUT 200']);
  const again = scene.start(['--once'], { CMDB_HOOK_DEREGISTER_ACTION: 'retire' }, { v8Flags: ['--lite-mode'] });
  assert.equal(await again.exited, 0, again.stderr());
  assert.equal(scene.cmdb.writes().length, writes + 1, 'a retired record is not retired again');
});
