// What people write in manifests and ConfigMaps that must work: Go durations (1m30s, .5s, 2h45m) as flags and env
// vars, checked against the effective config the binary logs and what it then does.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { baseFlags, runHook, type HookRun } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

function effectiveConfig(run: HookRun): Record<string, unknown> {
  const entry = run.logs.find((line) => line.msg === 'effective config');
  assert.ok(entry, `no effective config at debug level: ${run.stderr}`);
  return entry.config as Record<string, unknown>;
}

test('Go durations in flags: deregister --timeout 1m30s --drain .2s --request-timeout 2s500ms', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const run = await runHook(['deregister', ...flags, '--timeout', '1m30s', '--drain', '.2s', '--request-timeout', '2s500ms', '--log-level', 'debug'], { env });
  assert.equal(run.code, 0, run.stderr);
  const config = effectiveConfig(run);
  assert.equal(config.timeoutMs, 90_000);
  assert.equal(config.drainMs, 200);
  assert.equal(config.requestTimeoutMs, 2500);
  assert.match(run.summary, /then drained 200ms/);
  assert.ok(run.durationMs >= 200, `the drain was waited for (${run.durationMs} ms)`);
  assert.equal(cmdb.requests.length, 1);
});

test('Go durations in env vars: register with CMDB_HOOK_TIMEOUT=2h45m, --ready-interval 50000us, --ready-timeout 1.5s', async (t) => {
  const { cmdb, app, env, flags } = await scene(t, { app: { readyAfterMs: 0 } });
  const settings = { CMDB_HOOK_TIMEOUT: '2h45m', CMDB_HOOK_READY_INTERVAL: '50000us', CMDB_HOOK_READY_TIMEOUT: '1.5s\n' };
  const run = await runHook(['register', ...flags, '--ready-url', app!.readyUrl, '--log-level', 'debug'], { env: { ...env, ...settings } });
  assert.equal(run.code, 0, run.stderr);
  const config = effectiveConfig(run);
  assert.equal(config.timeoutMs, 9_900_000);
  assert.equal(config.readyIntervalMs, 50);
  assert.equal(config.readyTimeoutMs, 1500);
  assert.equal(cmdb.records.size, 1);
});

test('a part of a millisecond is rounded up, never down to zero: --drain 1ns', async (t) => {
  const { env, flags } = await scene(t);
  const run = await runHook(['deregister', ...flags, '--drain', '1ns', '--timeout', '1h', '--log-level', 'debug'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(effectiveConfig(run).drainMs, 1);
  assert.equal(effectiveConfig(run).timeoutMs, 3_600_000);
});

test('--flag=value forms work for strings, booleans, durations and repeated fields', async (t) => {
  const { cmdb, app, env, podinfo } = await scene(t, { app: { readyAfterMs: 0 } });
  const run = await runHook(
    ['register', `--cmdb-url=${cmdb.url}`, '--cluster=prod-eu-1', '--container=app', `--podinfo-dir=${podinfo}`, `--ready-url=${app!.readyUrl}`,
      '--timeout=1m30s', '--strict=true', '--field=owner=team a', '--field', 'delta=-1', '--app=shop'],
    { env },
  );
  assert.equal(run.code, 0, run.stderr);
  const [record] = cmdb.records.values();
  assert.equal(record?.cluster, 'prod-eu-1');
  assert.equal(record?.app, 'shop');
  assert.deepEqual(record?.fields, { owner: 'team a', delta: '-1' });
});

test('a --ready-tcp host:port and a --cmdb-url with a trailing slash still work', async (t) => {
  const { cmdb, app, env, flags } = await scene(t, { app: { readyAfterMs: 0 } });
  const port = new URL(app!.readyUrl).port;
  const base = flags.map((flag, index) => (flags[index - 1] === '--cmdb-url' ? `${flag}/` : flag));
  const run = await runHook(['register', ...base, '--ready-tcp', `127.0.0.1:${port}`], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(cmdb.records.size, 1);
  assert.equal(cmdb.writes()[0]?.path, `/records/${env.POD_UID}_app`);
});

test('labels and annotations files that are truly absent mean none, as without a downwardAPI volume', async (t) => {
  const { cmdb, env, podinfo } = await scene(t);
  const run = await runHook(['register', ...baseFlags(cmdb.url, join(podinfo, 'not-mounted'))], { env });
  assert.equal(run.code, 0, run.stderr);
  const [record] = cmdb.records.values();
  assert.deepEqual([record?.labels, record?.annotations], [{}, {}]);
});
