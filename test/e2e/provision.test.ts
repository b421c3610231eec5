// A machine without the build and test tools: `npm run build`, `npm test` and the provisioning step (scripts/
// provision.sh) stop at once with one line naming what is missing and the command that installs it, exit non-zero,
// print no stack trace and leave dist/ unwritten. Each runs in a copy of the project whose PATH holds only node and
// sh, so the machine's tools are out of sight (and this checkout's dist/, which other tests run, is never at stake).
import assert from 'node:assert/strict';
import { spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { accessSync, chmodSync, constants, cpSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { after, before, test } from 'node:test';

const ROOT = new URL('../../', import.meta.url).pathname;
const BUILD_TOOLS = { commands: ['strip', 'patchelf', 'ldd'], packages: ['binutils', 'patchelf', 'libc-bin'] };
const TEST_TOOLS = {
  commands: [...BUILD_TOOLS.commands, 'readelf', 'openssl', 'dash', 'busybox', 'shellcheck', 'buildah', 'unzip'],
  packages: [...BUILD_TOOLS.packages, 'openssl', 'dash', 'busybox-static', 'shellcheck', 'buildah', 'unzip'],
};
/** The unprivileged runs switch to this user, which only root can do (npm test runs as root). */
const NOBODY = 65534;
const asRoot = { skip: process.getuid?.() !== 0 && 'runs as root, to switch to an unprivileged user' };

let copy = '';
/** Holds node and sh only (npm runs scripts with sh); `npm run` adds the project's node_modules/.bin (the pinned node,
 * eslint, tsc: no Debian tool). */
let bare = '';

before(() => {
  copy = mkdtempSync(join(tmpdir(), 'cmdb-hook-bare-'));
  chmodSync(copy, 0o755); // readable by the unprivileged runs below
  for (const entry of ['package.json', 'scripts', 'src', 'hooks']) cpSync(join(ROOT, entry), join(copy, entry), { recursive: true });
  symlinkSync(join(ROOT, 'node_modules'), join(copy, 'node_modules'));
  bare = join(copy, 'bare-bin');
  mkdirSync(bare);
  symlinkSync(process.execPath, join(bare, 'node'));
  symlinkSync('/bin/sh', join(bare, 'sh'));
});
after(() => rmSync(copy, { recursive: true, force: true }));

function onPath(command: string): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    try {
      accessSync(join(dir, command), constants.X_OK);
      return join(dir, command);
    } catch {
      // not there
    }
  }
  return undefined;
}

/** npm's own CLI, run by the pinned node: the one that runs this test, else the one on PATH. */
function npm(...args: string[]): string[] {
  const cli = process.env.npm_execpath ?? onPath('npm');
  assert.ok(cli, 'npm is on PATH');
  return [process.execPath, realpathSync(cli), ...args];
}

/** Runs in the copy with only the given PATH; `event` stands for the npm script it would run under. */
function run(argv: string[], { path, event, ...options }: Pick<SpawnSyncOptions, 'uid' | 'gid'> & { path: string; event?: string }) {
  const [file = '', ...args] = argv;
  const env = { PATH: path, HOME: copy, npm_config_cache: join(copy, '.npm'), npm_config_update_notifier: 'false', ...(event && { npm_lifecycle_event: event }) };
  const result = spawnSync(file, args, { cwd: copy, env, encoding: 'utf8', timeout: 60_000, ...options });
  return { code: result.status, stdout: String(result.stdout), stderr: String(result.stderr) };
}

/** The one line: what is missing, the one command that installs it; no stack frame, nothing else said. */
function assertOneLine(stderr: string, who: string, tools: typeof TEST_TOOLS): string {
  const lines = stderr.split('\n').filter((line) => line.trim() !== '');
  assert.equal(lines.length, 1, `one line, got:\n${stderr}`);
  const line = lines[0] ?? '';
  assert.ok(line.startsWith(`${who}: this machine lacks ${tools.commands.join(', ')}`), line);
  assert.ok(line.includes(`install as root: apt-get update && apt-get install -y ${tools.packages.join(' ')}`), line);
  assert.doesNotMatch(stderr, /^\s+at |Error:|ENOENT/m);
  return line;
}

test('npm run build without strip, patchelf and ldd: one line with the apt-get command, exit 1, no dist/', () => {
  const result = run(npm('run', '--silent', 'build'), { path: bare });
  assert.notEqual(result.code, 0);
  const line = assertOneLine(result.stderr, 'npm run build', BUILD_TOOLS);
  assert.match(line, /this machine has no apt-get/);
  assert.equal(result.stdout, '');
  assert.ok(!existsSync(join(copy, 'dist')), 'dist/ was not touched');
});

test('npm test on a machine that is not Debian: one line, exit 1, nothing typechecked, linted or built', () => {
  const result = run(npm('test', '--silent'), { path: bare });
  assert.notEqual(result.code, 0);
  assertOneLine(result.stderr, 'npm test', TEST_TOOLS);
  assert.equal(result.stdout, '', 'the next steps (tsc, eslint, the build) never ran');
  assert.ok(!existsSync(join(copy, 'dist')));
});

test('provisioning on Debian, not as root: one line with the command to run as root; apt-get is not started', asRoot, () => {
  const aptGet = onPath('apt-get');
  assert.ok(aptGet, 'this test runs on Debian');
  const withApt = join(copy, 'bare-and-apt-bin');
  mkdirSync(withApt);
  for (const command of ['sh', 'id']) symlinkSync(onPath(command) ?? command, join(withApt, command));
  symlinkSync(aptGet, join(withApt, 'apt-get')); // had it run, its complaints about the lock would be more lines
  const result = run(['sh', 'scripts/provision.sh', 'test'], { path: withApt, uid: NOBODY, gid: NOBODY, event: 'test' });
  assert.notEqual(result.code, 0);
  const line = assertOneLine(result.stderr, 'npm test', TEST_TOOLS);
  assert.doesNotMatch(line, /no apt-get/);
});

test('provisioning with every tool in place, not as root: one line saying npm test needs root', asRoot, () => {
  const result = run(['sh', 'scripts/provision.sh', 'test'], { path: process.env.PATH ?? '', uid: NOBODY, gid: NOBODY, event: 'test' });
  assert.notEqual(result.code, 0);
  assert.equal(result.stderr, 'npm test: needs root: it places the single executable at /opt/cmdb-hook; run it again as root\n');
});

test('scripts/provision.sh stays POSIX sh (it runs before the pinned Node can)', () => {
  const result = run(['shellcheck', '--shell=sh', '--severity=style', 'scripts/provision.sh'], { path: process.env.PATH ?? '' });
  assert.equal(result.code, 0, result.stdout);
});
