// Overlapping register and deregister runs of one container. The rule: a deregister wins over every register of the
// same container that started before it (foreground or background, waiting for readiness, retrying, or with a PUT
// in flight), and a register that starts after it still registers: a liveness restart runs preStop then postStart
// in the same pod, with the same record id, and the container's temp folder may survive the restart (an emptyDir).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { test } from 'node:test';
import { backgroundPid, killLeftovers, processEnded, textOf, waitFor } from '../support/processes.ts';
import { runHook } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

const methods = (writes: { method: string }[]) => writes.map((write) => write.method);

test('a foreground register still waiting for readiness when deregister runs: it stops, exits 0 and says why; no record', async (t) => {
  const { cmdb, app, env, flags } = await scene(t, { app: {} }); // not ready until told
  const registering = runHook(['register', ...flags, '--ready-url', app!.readyUrl, '--ready-interval', '50ms', '--timeout', '30s'], { env });
  assert.ok(await waitFor(() => app!.checks() > 0, 15_000), 'register is polling readiness');

  const deregistered = await runHook(['deregister', ...flags], { env });
  assert.equal(deregistered.code, 0, deregistered.stderr);
  app!.setReady(true);
  const registered = await registering;
  assert.equal(registered.code, 0, registered.stderr);
  assert.match(registered.summary, /: deregistered meanwhile: a deregister of this container started after this register; nothing registered$/);
  await sleep(300);
  assert.deepEqual(methods(cmdb.writes()), ['DELETE']);
  assert.equal(cmdb.records.size, 0);
});

test('a foreground register retrying the CMDB when deregister runs: it stops retrying; no record', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  cmdb.injectFault({ status: 503, method: 'PUT', times: 1000 });
  const registering = runHook(['register', ...flags, '--timeout', '30s'], { env });
  assert.ok(await waitFor(() => methods(cmdb.writes()).filter((method) => method === 'PUT').length >= 2, 15_000), 'register is retrying');

  const deregistered = await runHook(['deregister', ...flags], { env });
  assert.equal(deregistered.code, 0, deregistered.stderr);
  cmdb.clearFaults(); // the CMDB is back: a register that kept retrying would now write the record
  const registered = await registering;
  assert.equal(registered.code, 0, registered.stderr);
  assert.match(registered.summary, /deregistered meanwhile/);
  await sleep(300);
  assert.equal(methods(cmdb.writes()).at(-1), 'DELETE', 'nothing after the DELETE');
  assert.equal(cmdb.records.size, 0);
});

test('a PUT in flight when deregister runs is answered before the DELETE is sent; no record', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  cmdb.injectFault({ delayMs: 2000, method: 'PUT' }); // received at once, answered (and stored) 2 s later
  const registering = runHook(['register', ...flags, '--timeout', '30s'], { env });
  assert.ok(await waitFor(() => cmdb.writes().length > 0, 15_000), 'the PUT has reached the CMDB');

  const deregistered = await runHook(['deregister', ...flags], { env });
  assert.equal(deregistered.code, 0, deregistered.stderr);
  assert.match(deregistered.summary, /deleted record .* \(204 No Content\); stopped 1 register run that started before it/);
  const registered = await registering;
  assert.equal(registered.code, 0, registered.stderr);
  assert.match(registered.summary, /deregistered meanwhile: .* stopped once its write in flight was answered \(201 Created\)$/);
  assert.deepEqual(methods(cmdb.writes()), ['PUT', 'DELETE']);
  assert.equal(cmdb.records.size, 0);
});

test('20 register/deregister pairs started at the same moment: no record is left', async (t) => {
  const { cmdb, env, flags, tmp } = await scene(t);
  const runs = [];
  for (let pair = 0; pair < 20; pair++) {
    const pod = { ...env, POD_UID: randomUUID() };
    // Both exec'd in the same instant, register first: the deregister started after it, so it must win.
    runs.push(runHook(['register', ...flags, '--timeout', '60s'], { env: pod }), runHook(['deregister', ...flags, '--timeout', '60s'], { env: pod }));
  }
  const results = await Promise.all(runs);
  for (const result of results) assert.equal(result.code, 0, result.stderr);
  const stopped = results.filter((result) => /deregistered meanwhile/.test(result.summary)).length;
  t.diagnostic(`PUTs that reached the CMDB: ${methods(cmdb.writes()).filter((method) => method === 'PUT').length}; registers stopped: ${stopped}`);
  assert.deepEqual([...cmdb.records.keys()], [], 'records left behind');
  // Every register removed its marker; what stays is one deregister marker per record id.
  const markers = readdirSync(join(tmp, `cmdb-hook-runs-${process.getuid?.() ?? 0}`));
  assert.equal(markers.length, 20, markers.join(' '));
  assert.ok(markers.every((name) => name.split('.')[1] === 'd'), markers.join(' '));
});

test('liveness restart: deregister, then the restarted container registers again (same pod UID, temp folder kept)', async (t) => {
  const { cmdb, app, env, flags, tmp } = await scene(t, { app: {} }); // not ready until told
  // The first container start: postStart delivered twice, both background registers still waiting for the app.
  const logs = ['first', 'second'].map((name) => join(tmp, `${name}.log`));
  const hooks = await Promise.all(
    logs.map((logFile) => runHook(['register', ...flags, '--background', '--ready-url', app!.readyUrl, '--ready-interval', '50ms', '--log-file', logFile, '--timeout', '30s'], { env })),
  );
  const pids = hooks.map((hook) => backgroundPid(hook.summary));
  t.after(() => killLeftovers(pids));
  assert.ok(await waitFor(() => logs.every((file) => textOf(file).includes('waiting for the app to be ready')), 15_000), 'both are waiting');

  // The liveness probe fails: preStop, then the new container's postStart, in the same pod.
  const deregistered = await runHook(['deregister', ...flags], { env });
  assert.equal(deregistered.code, 0, deregistered.stderr);
  const registering = runHook(['register', ...flags, '--ready-url', app!.readyUrl, '--ready-interval', '50ms', '--timeout', '30s'], { env });
  await sleep(500);
  app!.setReady(true);
  const registered = await registering;
  assert.equal(registered.code, 0, registered.stderr);
  assert.match(registered.summary, /registered as .*_app \(201 Created\)/);
  for (const pid of pids) assert.ok(await processEnded(pid, 5000), `the first start's register ${pid} ended`);
  await sleep(300);
  assert.deepEqual(methods(cmdb.writes()), ['DELETE', 'PUT'], 'one PUT, from the restarted container');
  assert.equal(cmdb.records.get(`${env.POD_UID}_app`)?.state, 'ready');

  // And the restarted container's own preStop later removes it.
  const again = await runHook(['deregister', ...flags], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(cmdb.records.size, 0);
});

test('symlinks planted where runs keep their markers are not followed, and register and deregister still work', async (t) => {
  const { cmdb, app, env, flags, tmp } = await scene(t, { app: { readyAfterMs: 0 } });
  const victim = join(tmpdir(), `cmdb-hook-victim-${randomUUID()}`);
  mkdirSync(victim);
  t.after(() => rmSync(victim, { recursive: true, force: true }));
  writeFileSync(join(victim, 'precious'), 'precious\n');
  const uid = process.getuid?.() ?? 0;
  // The folder of run markers, and the pid file that earlier versions wrote: both in the container's temp folder.
  symlinkSync(victim, join(tmp, `cmdb-hook-runs-${uid}`));
  symlinkSync(join(victim, 'precious'), join(tmp, `cmdb-hook-${env.POD_UID}_app.register.pid`));

  const registered = await runHook(['register', ...flags, '--background', '--ready-url', app!.readyUrl, '--timeout', '20s'], { env });
  assert.equal(registered.code, 0, registered.stderr);
  t.after(() => killLeftovers([backgroundPid(registered.summary)]));
  assert.ok(await waitFor(() => cmdb.records.size === 1, 15_000), 'the background register registered');
  const deregistered = await runHook(['deregister', ...flags], { env });
  assert.equal(deregistered.code, 0, deregistered.stderr);
  assert.equal(cmdb.records.size, 0);

  assert.deepEqual(readdirSync(victim), ['precious'], 'nothing created through the folder symlink');
  assert.equal(readFileSync(join(victim, 'precious'), 'utf8'), 'precious\n', 'nothing written through the file symlink');
  assert.ok(lstatSync(join(tmp, `cmdb-hook-runs-${uid}`)).isSymbolicLink(), 'the planted link is left as it was');
  assert.ok(deregistered.logs.some((line) => line.level === 40 && /is not a private folder of this user/.test(String(line.msg))), deregistered.stderr);
});
