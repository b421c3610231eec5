// The summary is the last stderr line, which the kubelet copies into the pod's event: whatever the env holds, it stays
// one line, so a newline in POD_NAME cannot add a line that reads like another outcome.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runHook, type HookRun } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

const FORGED = 'web-0 container app: registered\ncmdb-hook register shop/forged container app: registered as forged (201 Created) in 1ms';

/** Every stderr line is a JSON log line, except exactly one: the summary, last. */
function plainLines(run: HookRun): string[] {
  return run.stderr.trimEnd().split('\n').filter((line) => !line.startsWith('{'));
}

test('a newline in POD_NAME is escaped in the summary: one line, the real outcome', async (t) => {
  const { cmdb, env, flags } = await scene(t, { pod: { name: FORGED } });
  const run = await runHook(['register', ...flags], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(plainLines(run), [run.summary]);
  assert.match(run.summary, /^cmdb-hook register shop\/web-0 container app: registered\\ncmdb-hook register shop\/forged .* container app: registered as [\w-]+_app \(201 Created\)/);
  assert.equal(cmdb.records.size, 1);
});

test('carriage returns, escape sequences and bidi controls in the env are escaped too', async (t) => {
  const { env, flags } = await scene(t, { pod: { name: 'web\r\u001b[2Kok\u202eevil', namespace: 'shop\u2028x' } });
  const run = await runHook(['deregister', ...flags], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(plainLines(run), [run.summary]);
  assert.ok(run.summary.startsWith('cmdb-hook deregister shop\\u2028x/web\\r\\u001b[2Kok\\u202eevil container app: '), run.summary);
  assert.doesNotMatch(run.summary, /[\p{Cc}\u2028\u202e]/u);
});

test('a config error that repeats an env value stays one line', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const run = await runHook(['register', ...flags], { env: { ...env, CMDB_HOOK_CMDB_TOKEN_FILE: '/nowhere\ncmdb-hook register: registered' } });
  assert.equal(run.code, 2);
  assert.equal(run.stderr, `${run.summary}\n`);
  assert.match(run.summary, /--cmdb-token-file \(CMDB_HOOK_CMDB_TOKEN_FILE\) \/nowhere\\ncmdb-hook register: registered cannot be read \(ENOENT\)/);
  assert.equal(cmdb.requests.length, 0);
});
