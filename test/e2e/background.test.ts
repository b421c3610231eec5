// `register --background`, for clusters whose NetworkPolicy blocks the pod's traffic until postStart
// returns. The hook must return at once with its stdout/stderr pipes closed (a child holding them would keep the
// kubelet waiting, kubernetes #72089), and the detached child must register once the app is ready.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { backgroundPid, killLeftovers, processEnded, textOf, waitFor } from '../support/processes.ts';
import { runHook } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';
import type { SandboxCmdb } from '../support/sandbox-cmdb.ts';

async function waitForRecords(cmdb: SandboxCmdb, count: number, withinMs: number): Promise<void> {
  const until = performance.now() + withinMs;
  while (cmdb.records.size < count && performance.now() < until) await sleep(50);
}

/** Field 6 of /proc/<pid>/stat is the session id: a process that called setsid() leads its own session. */
function sessionOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[3]);
}

test('--background returns at once with its pipes closed; the detached child registers after readiness', async (t) => {
  const { cmdb, app, env, flags } = await scene(t, { app: { readyAfterMs: 1500 } });
  const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-bg-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const logFile = join(dir, 'hook.log');
  const run = await runHook(['register', ...flags, '--background', '--ready-url', app!.readyUrl, '--ready-interval', '100ms', '--log-file', logFile, '--timeout', '20s'], { env });
  assert.equal(run.code, 0, run.stderr);
  // runHook resolves on 'close', which waits for every holder of the stdout/stderr pipes to let go.
  assert.ok(run.durationMs < 1000, `the hook and its pipes closed after ${Math.round(run.durationMs)}ms`);
  const pid = Number(/background process (\d+)/.exec(run.summary)?.[1]);
  assert.ok(pid > 0, run.summary);
  assert.equal(sessionOf(pid), pid, 'the child leads its own session');
  assert.equal(cmdb.writes().length, 0, 'nothing registered before the app is ready');

  await waitForRecords(cmdb, 1, 10_000);
  assert.equal(cmdb.records.size, 1);
  assert.equal(cmdb.writes().length, 1);
  assert.ok(cmdb.writes()[0]!.at >= app!.readyAt()!, 'registered only after the app was ready');
  await sleep(300);
  assert.match(readFileSync(logFile, 'utf8'), /registered as .*_app \(201 Created\)/, 'the child logs to --log-file');
});

test('CMDB_HOOK_BACKGROUND=true from a ConfigMap: one background child, one registration (no re-spawning)', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const run = await runHook(['register', ...flags, '--timeout', '20s'], { env: { ...env, CMDB_HOOK_BACKGROUND: 'true' } });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.summary, /background process \d+ .*no --log-file/);
  await waitForRecords(cmdb, 1, 10_000);
  await sleep(1000);
  assert.equal(cmdb.writes().length, 1, 'exactly one PUT');
});

test('--background still checks the configuration first: a config error exits 2 from the hook itself', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const { POD_UID: _uid, ...withoutUid } = env;
  const run = await runHook(['register', ...flags, '--background'], { env: withoutUid });
  assert.equal(run.code, 2);
  assert.match(run.summary, /POD_UID is not set/);
  const badToken = await runHook(['register', ...flags, '--background', '--cmdb-token-file', '/nonexistent/token'], { env });
  assert.equal(badToken.code, 2);
  assert.match(badToken.summary, /--cmdb-token-file .* cannot be read/);
  assert.equal(cmdb.requests.length, 0);
});

test('deregister stops a background register that is still waiting, so no PUT lands after the DELETE', async (t) => {
  const { cmdb, app, env, flags } = await scene(t, { app: { mode: 'never' } });
  const run = await runHook(['register', ...flags, '--background', '--ready-url', app!.readyUrl, '--ready-interval', '100ms', '--timeout', '20s'], { env });
  assert.equal(run.code, 0, run.stderr);
  const pid = Number(/background process (\d+)/.exec(run.summary)?.[1]);
  assert.ok(existsSync(`/proc/${pid}`), 'the background register runs');
  assert.ok(await waitFor(() => app!.checks() > 0, 15_000), 'the background register is waiting for the app');
  const stopped = await runHook(['deregister', ...flags], { env });
  assert.equal(stopped.code, 0, stopped.stderr);
  assert.ok(stopped.logs.some((line) => String(line.msg).startsWith('stopped the register run') && (line.pids as number[]).includes(pid)), stopped.stderr);
  assert.ok(await processEnded(pid, 3000), 'the background register ended');
  app!.setReady(true);
  await sleep(500);
  assert.deepEqual(cmdb.writes().map((write) => write.method), ['DELETE'], 'the stopped register never PUT');
});

test('two overlapping --background registers (postStart delivered twice), then deregister: no record, in each of 3 rounds', async (t) => {
  for (let round = 1; round <= 3; round++) {
    const { cmdb, app, env, flags, tmp } = await scene(t, { app: {} }); // not ready until told
    const logs = ['first', 'second'].map((name) => join(tmp, `${name}.log`));
    const hooks = await Promise.all(
      logs.map((logFile) => runHook(['register', ...flags, '--background', '--ready-url', app!.readyUrl, '--ready-interval', '50ms', '--log-file', logFile, '--timeout', '30s'], { env })),
    );
    for (const hook of hooks) assert.equal(hook.code, 0, hook.stderr);
    const pids = hooks.map((hook) => backgroundPid(hook.summary));
    t.after(() => killLeftovers(pids));
    assert.ok(await waitFor(() => logs.every((file) => textOf(file).includes('waiting for the app to be ready')), 15_000), 'both background registers are waiting');

    const deregistered = await runHook(['deregister', ...flags], { env });
    assert.equal(deregistered.code, 0, deregistered.stderr);
    app!.setReady(true);
    for (const pid of pids) assert.ok(await processEnded(pid, 5000), `round ${round}: background register ${pid} still runs after the deregister`);
    await sleep(300);
    assert.deepEqual(cmdb.writes().map((write) => write.method), ['DELETE'], `round ${round}: no PUT after the DELETE`);
    assert.equal(cmdb.records.size, 0);
    for (const file of logs) assert.match(textOf(file), /deregistered meanwhile/, `round ${round}: ${file} says why it stopped`);
  }
});

test('--background with --dry-run stays in the foreground and prints the request', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const run = await runHook(['register', ...flags, '--background', '--dry-run'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal((JSON.parse(run.stdout) as { method: string }).method, 'PUT');
  assert.equal(cmdb.requests.length, 0);
});
