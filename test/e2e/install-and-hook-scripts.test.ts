// `cmdb-hook install <dir>` (what an init container runs to inject the agent into an app image), and the
// hooks/ scripts that images carry next to the binary, run exec'd directly, under dash and under busybox sh.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { hookCommand, runHook, runProcess } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

// The program under test (the bundle, or the single executable with CMDB_HOOK_TEST_BIN) and what travels with it.
const program = realpathSync(hookCommand().at(-1) ?? '');
const expected = ['cmdb-hook', ...['hooks', 'lib'].flatMap((dir) => {
  try {
    return readdirSync(join(dirname(program), dir), { recursive: true }).map((file) => `${dir}/${String(file)}`);
  } catch {
    return [];
  }
})].sort();
// An image with Node carries it on PATH; the installed bundle finds it through its `#!/usr/bin/env node` line.
const PATH = `${dirname(process.execPath)}:/usr/bin:/bin`;

function tempDir(t: TestContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-install-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

// README: install compares by streamed SHA-256 and copies by stream, so memory stays flat whatever the program's size
// (the single executable is 127 MB): both runs peak near a bare --version of the same program.
test('install copies the program and its hooks into a new folder, then is idempotent', async (t) => {
  const target = join(tempDir(t), 'opt', 'cmdb-hook');
  const bare = await runHook(['--version'], { watchMemory: true });
  const first = await runHook(['install', target], { watchMemory: true });
  assert.equal(first.code, 0, first.stderr);
  assert.match(first.summary, new RegExp(`installed into .*: ${expected.length} file\\(s\\) written, 0 already up to date`));
  const files = readdirSync(target, { recursive: true, withFileTypes: true }).filter((entry) => entry.isFile());
  assert.deepEqual(files.map((entry) => join(entry.parentPath, entry.name).slice(target.length + 1)).sort(), expected);
  assert.deepEqual(readFileSync(join(target, 'cmdb-hook')), readFileSync(program));
  for (const file of ['cmdb-hook', 'hooks/post-start', 'hooks/pre-stop']) assert.equal(statSync(join(target, file)).mode & 0o111, 0o111, `${file} is executable`);

  const inode = statSync(join(target, 'cmdb-hook')).ino;
  const second = await runHook(['install', target], { watchMemory: true });
  assert.equal(second.code, 0, second.stderr);
  for (const run of [first, second]) assert.ok(run.peakRssMiB < bare.peakRssMiB + 32, `install peaked at ${run.peakRssMiB.toFixed(1)} MiB; --version at ${bare.peakRssMiB.toFixed(1)}`);
  assert.match(second.summary, new RegExp(`0 file\\(s\\) written, ${expected.length} already up to date`));
  assert.equal(statSync(join(target, 'cmdb-hook')).ino, inode, 'an identical file is not rewritten');

  const installed = await runProcess([join(target, 'cmdb-hook'), '--version'], { env: { PATH } });
  assert.equal(installed.stdout.trim(), '0.1.0');
});

test('install replaces a stale copy atomically (by rename) and leaves no temporary files', async (t) => {
  const target = tempDir(t);
  writeFileSync(join(target, 'cmdb-hook'), '#!/bin/sh\necho old version\n', { mode: 0o755 });
  const before = statSync(join(target, 'cmdb-hook')).ino;
  const run = await runHook(['install', target]);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.summary, new RegExp(`${expected.length} file\\(s\\) written`));
  assert.notEqual(statSync(join(target, 'cmdb-hook')).ino, before, 'replaced by a new file, not rewritten in place');
  assert.deepEqual(readdirSync(target, { recursive: true }).filter((name) => String(name).includes('.tmp-')), []);
  const installed = await runProcess([join(target, 'cmdb-hook'), '--version'], { env: { PATH } });
  assert.equal(installed.stdout.trim(), '0.1.0');
});

test('install into a place that cannot hold it: exit 2, one line, at once', async (t) => {
  const file = join(tempDir(t), 'a-file');
  writeFileSync(file, '');
  for (const target of [join(file, 'sub'), '/proc/no-such-dir/cmdb-hook']) {
    const run = await runHook(['install', target], { killAfterMs: 10_000 });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.summary, /cannot write .* mount a writable volume/);
    assert.ok(run.durationMs < 5000, `${target}: ${Math.round(run.durationMs)}ms`);
  }
  const missing = await runHook(['install']);
  assert.equal(missing.code, 2);
  assert.match(missing.summary, /Not enough non-option arguments/);
});

test('the hook scripts are POSIX sh (shellcheck -s sh)', () => {
  const hooks = ['post-start', 'pre-stop'].map((name) => new URL(`../../hooks/${name}`, import.meta.url).pathname);
  execFileSync('shellcheck', ['--shell=sh', '--severity=style', ...hooks]);
  for (const hook of hooks) assert.match(readFileSync(hook, 'utf8'), /^#!\/bin\/sh\n[\s\S]*\nexec "\$here\/\.\.\/cmdb-hook" (register|deregister) "\$@"\n$/);
});

const SHELLS: [string, string[]][] = [
  ['exec\'d directly (#!/bin/sh)', []],
  ['dash', ['/usr/bin/dash']],
  ['busybox sh', ['/usr/bin/busybox', 'sh']],
];

for (const [name, shell] of SHELLS) {
  test(`hooks/post-start and hooks/pre-stop under ${name}: arguments pass through intact, exit codes come back`, async (t) => {
    const target = tempDir(t);
    assert.equal((await runHook(['install', target])).code, 0);
    const { cmdb, env, flags } = await scene(t);
    const withPath = { ...env, PATH };
    const started = await runProcess([...shell, join(target, 'hooks', 'post-start'), ...flags, '--field', 'owner=team a, b', '--field', 'q=x=1 y'], { env: withPath });
    assert.equal(started.code, 0, started.stderr);
    assert.deepEqual(cmdb.records.get(`${env.POD_UID}_app`)?.pod.uid, env.POD_UID);
    assert.deepEqual((JSON.parse(cmdb.writes()[0]?.body ?? '{}') as { fields: unknown }).fields, { owner: 'team a, b', q: 'x=1 y' });

    const stopped = await runProcess([...shell, join(target, 'hooks', 'pre-stop'), ...flags], { env: withPath });
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.equal(cmdb.records.size, 0);

    const wrong = await runProcess([...shell, join(target, 'hooks', 'pre-stop'), ...flags, '--timeout', 'soon'], { env: withPath });
    assert.equal(wrong.code, 2, 'the binary\'s exit code is the hook\'s');
    assert.match(wrong.summary, /--timeout/);
  });
}
