// Exit codes: exitCodeFor for every error class, with and without --strict, and run() (src/cli/run.ts, the one place
// errors become exit codes) in-process for a few command lines. run() writes its summary line to fd 2 and what it
// prints (version, a --dry-run's plan) to fd 1, directly: both show up in the test output.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { run } from '../../src/cli/run.ts';
import { CmdbRejectedError, CmdbUnavailableError, ConfigError, EXIT_CODES, exitCodeFor, KubeUnavailableError, NotReadyError } from '../../src/errors.ts';

test('exitCodeFor: usage errors always fail, the app\'s and the CMDB\'s trouble only with --strict, anything else is a bug', () => {
  const rows: { error: unknown; lenient: number; strict: number }[] = [
    { error: new ConfigError('--cluster (CMDB_HOOK_CLUSTER) is required'), lenient: 2, strict: 2 },
    { error: new NotReadyError('the app was not ready'), lenient: 0, strict: 3 },
    { error: new CmdbRejectedError('422 Unprocessable Entity', { status: 422 }), lenient: 0, strict: 4 },
    { error: new CmdbUnavailableError('503 Service Unavailable', { status: 503, retryAfterMs: 1000 }), lenient: 0, strict: 5 },
    { error: new Error('a bug'), lenient: 1, strict: 1 },
    { error: new TypeError('x is not a function'), lenient: 1, strict: 1 },
    { error: 'a thrown string', lenient: 1, strict: 1 },
    { error: undefined, lenient: 1, strict: 1 },
  ];
  for (const { error, lenient, strict } of rows) {
    const name = error instanceof Error ? error.name : JSON.stringify(error);
    assert.equal(exitCodeFor(error, false), lenient, `${name} without --strict`);
    assert.equal(exitCodeFor(error, true), strict, `${name} with --strict`);
  }
});

test('each error class carries its code, exit code, fail-open and transient flags', () => {
  const rows = [
    { error: new ConfigError('x'), name: 'ConfigError', code: 'ERR_CONFIG', exitCode: EXIT_CODES.usage, failOpen: false, transient: false },
    { error: new NotReadyError('x'), name: 'NotReadyError', code: 'ERR_NOT_READY', exitCode: EXIT_CODES.notReady, failOpen: true, transient: false },
    { error: new CmdbRejectedError('x'), name: 'CmdbRejectedError', code: 'ERR_CMDB_REJECTED', exitCode: EXIT_CODES.cmdbRejected, failOpen: true, transient: false },
    { error: new CmdbUnavailableError('x'), name: 'CmdbUnavailableError', code: 'ERR_CMDB_UNAVAILABLE', exitCode: EXIT_CODES.cmdbUnavailable, failOpen: true, transient: true },
    { error: new KubeUnavailableError('x'), name: 'KubeUnavailableError', code: 'ERR_KUBE_UNAVAILABLE', exitCode: EXIT_CODES.cmdbUnavailable, failOpen: true, transient: true },
  ];
  for (const { error, ...want } of rows) {
    assert.deepEqual({ name: error.name, code: error.code, exitCode: error.exitCode, failOpen: error.failOpen, transient: error.transient }, want);
    assert.ok(error instanceof Error);
  }
  const cause = new Error('ECONNRESET');
  const unavailable = new CmdbUnavailableError('PUT failed', { status: 503, retryAfterMs: 2000, cause });
  assert.deepEqual([unavailable.status, unavailable.retryAfterMs, unavailable.cause], [503, 2000, cause]);
});

test('run(): the exit code of a few command lines, in-process', async (t) => {
  const podinfo = mkdtempSync(join(tmpdir(), 'cmdb-hook-podinfo-'));
  t.after(() => rmSync(podinfo, { recursive: true, force: true }));
  writeFileSync(join(podinfo, 'labels'), 'app.kubernetes.io/name="shop"\n');
  const pod = { POD_UID: '0b7e4f0e-8f3c-4d5e-9a6b-1c2d3e4f5a6b', POD_NAMESPACE: 'shop', POD_NAME: 'shop-0' };
  const dryRun = ['--dry-run', '--cluster', 'c', '--container', 'app', '--podinfo-dir', podinfo];
  const rows: { args: string[]; env: NodeJS.ProcessEnv; code: number }[] = [
    { args: ['version'], env: {}, code: 0 },
    { args: ['register'], env: {}, code: 2 },
    { args: ['register', ...dryRun], env: pod, code: 0 },
    { args: ['deregister', ...dryRun], env: pod, code: 0 },
    // Config errors are exit 2, with or without --strict; the env is read as well as the flags.
    { args: ['register', ...dryRun, '--strict'], env: { ...pod, CMDB_HOOK_TIMEOUT: '300' }, code: 2 },
    { args: ['register', '--dry-run', '--container', 'app', '--podinfo-dir', podinfo], env: pod, code: 2 },
    { args: ['deregister', ...dryRun, '--drain', '1m'], env: pod, code: 2 },
    // The pod's identity is read when the run starts: still exit 2.
    { args: ['register', ...dryRun], env: { POD_NAMESPACE: 'shop' }, code: 2 },
    { args: ['register', ...dryRun], env: { ...pod, POD_UID: 'not/a/uid' }, code: 2 },
    // Mistakes yargs finds.
    { args: ['registr'], env: {}, code: 2 },
    { args: ['register', ...dryRun, '--no-such-flag'], env: pod, code: 2 },
    { args: ['register', ...dryRun, '--strict=maybe'], env: pod, code: 2 },
    { args: [], env: {}, code: 2 },
  ];
  for (const { args, env, code } of rows) {
    assert.equal(await run(args, env), code, `cmdb-hook ${args.join(' ')} with ${JSON.stringify(env)}`);
  }
});
