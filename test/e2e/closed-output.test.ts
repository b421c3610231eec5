// A hook whose stderr pipe is closed (the reader went away) still does its job and exits with the documented code:
// the summary line and the logs are lost, the outcome is not (an EPIPE on the summary line must not become exit 1).
// The same for stdout (`cmdb-hook version --json | head -c 0`): what was printed is dropped, the run is not a bug.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { hookCommand } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

const runWithClosedStderr = (args: string[], env: Record<string, string>) => runWithClosed('stderr', args, env);

/** Spawns the hook as the kubelet would, then closes the read end of one of its pipes before it writes anything. */
function runWithClosed(closed: 'stdout' | 'stderr', args: string[], env: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const [file = '', ...rest] = hookCommand();
  const child = spawn(file, [...rest, ...args], { env: { PATH: '/usr/bin:/bin', ...env }, shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
  child[closed].destroy();
  let stdout = '';
  let stderr = '';
  if (closed !== 'stdout') child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  if (closed !== 'stderr') child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

test('register with stderr closed: registers after readiness, exit 0, the log file still gets the lines', async (t) => {
  const { cmdb, app, env, flags, podinfo } = await scene(t, { app: { readyAfterMs: 0 } });
  const logFile = join(podinfo, 'hook.log');
  const run = await runWithClosedStderr(['register', ...flags, '--ready-url', app!.readyUrl, '--log-file', logFile], env);
  assert.equal(run.code, 0);
  assert.equal(cmdb.records.size, 1);
  assert.match(readFileSync(logFile, 'utf8'), /registered as .*_app \(201 Created\)/);
});

test('deregister --strict with stderr closed and the CMDB refusing: exit 4, not 1', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  cmdb.injectFault({ status: 403 });
  const run = await runWithClosedStderr(['deregister', ...flags, '--strict'], env);
  assert.equal(run.code, 4);
  assert.equal(cmdb.requests.length, 1);
});

test('a config error with stderr closed: exit 2, nothing sent', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const run = await runWithClosedStderr(['deregister', ...flags, '--timeout', '5x'], env);
  assert.equal(run.code, 2);
  assert.equal(cmdb.requests.length, 0);
});

test('--dry-run with stderr closed: the plan still reaches stdout, exit 0', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const run = await runWithClosedStderr(['deregister', ...flags, '--dry-run', '--log-level', 'silent'], env);
  assert.equal(run.code, 0);
  assert.match(run.stdout, /DELETE/);
  assert.equal(cmdb.requests.length, 0);
});

test('version --json with stdout closed: exit 0 and its summary line, no "internal error"', async () => {
  const run = await runWithClosed('stdout', ['version', '--json'], {});
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /^cmdb-hook version: \S+ on Node /m);
  assert.doesNotMatch(run.stderr, /internal error/);
});

test('register --dry-run with stdout closed: exit 0, nothing sent, the summary still says dry run', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const run = await runWithClosed('stdout', ['register', ...flags, '--dry-run'], env);
  assert.equal(run.code, 0, run.stderr);
  assert.equal(cmdb.requests.length, 0);
  assert.match(run.stderr, /stdout was closed by its reader: the rest of the output is dropped/);
  assert.match(run.stderr.trimEnd().split('\n').at(-1) ?? '', /dry run/);
});
