// The single executable. It is self-contained (its own loader and libraries), runs in a musl-only root,
// and the app container's Node settings (NODE_OPTIONS, NODE_PATH, NODE_EXTRA_CA_CERTS) do not reach it.
// The rest of the e2e suite runs against it too: `npm run test:executable` (CMDB_HOOK_TEST_BIN).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, test } from 'node:test';
import { makeCertificates } from '../support/certificates.ts';
import { BUILT, EXECUTABLE } from '../support/place-executable.ts';
import { downwardEnv, runProcess } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

// Placed by the npm scripts before any test runs: replacing it here would race with other test files running it.
assert.ok(existsSync(EXECUTABLE), `${EXECUTABLE} is missing: run node test/support/place-executable.ts first`);
const executable = EXECUTABLE;
const bundle = new URL('../../dist/cmdb-hook.cjs', import.meta.url).pathname;

test('the folder: the executable, its shared libraries with their loader, and the hook scripts', () => {
  const files = readdirSync(BUILT, { recursive: true }).map(String).sort();
  assert.ok(files.includes('cmdb-hook') && files.includes('hooks/post-start') && files.includes('hooks/pre-stop'));
  for (const library of ['ld-linux-x86-64.so.2', 'libc.so.6', 'libstdc++.so.6', 'libgcc_s.so.1', 'libm.so.6']) assert.ok(files.includes(`lib/${library}`), library);
  const headers = execFileSync('readelf', ['-l', '-d', executable], { encoding: 'utf8' });
  assert.match(headers, /Requesting program interpreter: \/opt\/cmdb-hook\/lib\/ld-linux-x86-64\.so\.2/);
  // DT_RPATH, searched before LD_LIBRARY_PATH (DT_RUNPATH would be searched after it).
  assert.match(headers, /\(RPATH\).*\[\/opt\/cmdb-hook\/lib:\$ORIGIN\/lib\]/);
  assert.doesNotMatch(headers, /RUNPATH/);
});

test('--version and version --json: the pinned runtime, as a single executable', async () => {
  const short = await runProcess([executable, '--version']);
  assert.equal(short.stdout.trim(), '0.1.0');
  const long = await runProcess([executable, 'version', '--json']);
  assert.equal(long.code, 0, long.stderr);
  const info = JSON.parse(long.stdout) as { version: string; runtime: { node: string; singleExecutable: boolean; startupSnapshot: boolean; glibc: string }; build: { commit: string } };
  assert.equal(info.version, '0.1.0');
  assert.equal(info.runtime.node, '26.10.0');
  assert.equal(info.runtime.singleExecutable, true);
  assert.equal(info.runtime.startupSnapshot, true, 'it starts from the heap saved at build time');
  assert.match(info.build.commit, /^[0-9a-f]{12}$|^unknown$/);
});

test('V8\'s lite mode by default; --node-options= as the first argument gives Node flags (--no-lite-mode undoes it); NODE_OPTIONS does not', async () => {
  const execArgvOf = async (argv: string[], env: NodeJS.ProcessEnv = {}) => {
    const run = await runProcess([executable, ...argv, 'version', '--json'], { env: { PATH: process.env.PATH ?? '', ...env } });
    assert.equal(run.code, 0, run.stderr);
    return (JSON.parse(run.stdout) as { runtime: { execArgv: string[] } }).runtime.execArgv;
  };
  assert.deepEqual(await execArgvOf([]), ['--max-semi-space-size=1', '--lite-mode']);
  assert.deepEqual(await execArgvOf([], { NODE_OPTIONS: '--no-lite-mode --max-old-space-size=8' }), ['--max-semi-space-size=1', '--lite-mode']);
  assert.deepEqual((await execArgvOf(['--node-options=--no-lite-mode'])).slice(-1), ['--no-lite-mode']);
  const refused = await runProcess([executable, '--node-options=--no-such-flag', 'version']);
  assert.equal(refused.code, 9, 'Node refuses a flag it does not know, before the program runs');
});

test('the app container\'s NODE_OPTIONS, NODE_PATH and NODE_EXTRA_CA_CERTS do not change it (https with its own CA file)', async (t) => {
  const certs = makeCertificates();
  t.after(() => rmSync(certs.dir, { recursive: true, force: true }));
  const { cmdb, env, flags } = await scene(t, { cmdb: { tls: { key: certs.serverKey, cert: certs.serverCert } } });
  const hostile = { ...env, NODE_OPTIONS: '--require /missing/preload.js --max-old-space-size=1', NODE_PATH: '/nonexistent', NODE_EXTRA_CA_CERTS: '/missing/ca.pem' };
  const args = [...flags, '--cmdb-ca-file', certs.caFile];
  const registered = await runProcess([executable, 'register', ...args], { env: hostile });
  assert.equal(registered.code, 0, registered.stderr);
  assert.equal(cmdb.records.size, 1);
  const removed = await runProcess([executable, 'deregister', ...args], { env: hostile });
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(cmdb.records.size, 0);
  // The contrast: the bundle on plain Node obeys NODE_OPTIONS and never gets to run (a 1 MB heap is fatal at once).
  const bundled = await runProcess([process.execPath, bundle, 'register', ...args], { env: hostile });
  assert.notEqual(bundled.code, 0);
  assert.match(bundled.stderr, /out of memory|Cannot find module '\/missing\/preload\.js'/);
  assert.equal(cmdb.writes().length, 2, 'only the executable\'s two requests arrived');
});

test('the app container\'s LD_LIBRARY_PATH and proxy settings do not change it either', async (t) => {
  // An image whose LD_LIBRARY_PATH holds a libstdc++ and libc that are not the ones shipped in lib/ (old-glibc images
  // set it): empty stand-ins here, which the loader would fail on if it took them.
  const bogus = mkdtempSync(join(tmpdir(), 'cmdb-hook-ld-'));
  t.after(() => rmSync(bogus, { recursive: true, force: true }));
  for (const library of ['libstdc++.so.6', 'libc.so.6', 'libm.so.6', 'libgcc_s.so.1']) writeFileSync(join(bogus, library), '');
  // NODE_USE_ENV_PROXY makes Node's global agents send through HTTP_PROXY: a closed port here, so any request that
  // took it would fail.
  const { cmdb, env, flags } = await scene(t);
  const hostile = { ...env, LD_LIBRARY_PATH: bogus, NODE_USE_ENV_PROXY: '1', HTTP_PROXY: 'http://127.0.0.1:9', http_proxy: 'http://127.0.0.1:9' };
  const registered = await runProcess([executable, 'register', ...flags, '--strict', '--timeout', '5s'], { env: hostile });
  assert.equal(registered.code, 0, registered.stderr);
  assert.equal(cmdb.records.size, 1);
  const removed = await runProcess([executable, 'deregister', ...flags, '--strict'], { env: hostile });
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(cmdb.records.size, 0);
});

// A root with musl and busybox only (Debian's packages), and no glibc anywhere: an Alpine-like image.
const muslRoot = mkdtempSync(join(tmpdir(), 'cmdb-hook-musl-root-'));
after(() => rmSync(muslRoot, { recursive: true, force: true }));

// Fetched by the test command's provisioning (scripts/provision.sh), so this test downloads nothing.
const DEBS = fileURLToPath(new URL('../../node_modules/.cache/cmdb-hook/debs', import.meta.url));

test('runs in a musl-only root: --version, then a real register and deregister', async (t) => {
  const debs = readdirSync(DEBS).filter((file) => /^(musl|busybox-static)_.*\.deb$/.test(file));
  assert.equal(debs.length, 2, `${DEBS} lacks musl or busybox-static: run sh scripts/provision.sh test`);
  for (const deb of debs) execFileSync('dpkg', ['-x', join(DEBS, deb), muslRoot]);
  mkdirSync(join(muslRoot, 'opt'), { recursive: true });
  cpSync(BUILT, join(muslRoot, 'opt', 'cmdb-hook'), { recursive: true });
  mkdirSync(join(muslRoot, 'etc', 'podinfo'), { recursive: true });
  writeFileSync(join(muslRoot, 'etc', 'podinfo', 'labels'), 'app="musl-app"');
  const outside = readdirSync(muslRoot, { recursive: true }).map(String).filter((path) => !path.startsWith('opt/'));
  assert.ok(outside.some((path) => path.endsWith('ld-musl-x86_64.so.1')), 'musl is there');
  assert.deepEqual(outside.filter((path) => /libc\.so\.6|ld-linux/.test(path)), [], 'no glibc outside /opt/cmdb-hook');
  assert.ok(!existsSync(join(muslRoot, 'lib64')), 'no /lib64/ld-linux-x86-64.so.2');

  const inRoot = (...args: string[]) => ['/usr/sbin/chroot', muslRoot, '/opt/cmdb-hook/cmdb-hook', ...args];
  const version = await runProcess(inRoot('--version'));
  assert.equal(version.stdout.trim(), '0.1.0', version.stderr);
  const busybox = await runProcess(['/usr/sbin/chroot', muslRoot, '/bin/busybox', 'true']);
  assert.equal(busybox.code, 0, 'busybox (musl root) runs');

  const { cmdb } = await scene(t);
  const env = downwardEnv();
  const flags = ['--cmdb-url', cmdb.url, '--cluster', 'c', '--container', 'app'];
  const registered = await runProcess(inRoot('register', ...flags), { env });
  assert.equal(registered.code, 0, registered.stderr);
  assert.deepEqual([...cmdb.records.values()][0]?.labels, { app: 'musl-app' });
  const removed = await runProcess(inRoot('deregister', ...flags), { env });
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(cmdb.records.size, 0);
});
