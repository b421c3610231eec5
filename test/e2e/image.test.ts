// The image, built here as CI builds it: buildah (vfs storage, chroot isolation) from the locally built
// dist/ (there is no registry to pull the build stage's base from). Then the image itself is run: --version, a real
// register and deregister against the sandbox, and `install` into a mounted folder, as an init container would.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { downwardEnv, runProcess } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

const ROOT = new URL('../../', import.meta.url).pathname;
const TAG = `localhost/cmdb-hook:test-${process.pid}`;
const buildah = (...args: string[]) => execFileSync('buildah', ['--storage-driver', 'vfs', ...args], { cwd: ROOT, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
let container = '';

before(() => {
  buildah('bud', '--isolation', 'chroot', '--build-arg', 'DIST=local', '--build-arg', 'COMMIT=0123456789ab', '--tag', TAG, '--file', 'Dockerfile', '.');
  container = buildah('from', TAG).trim();
});
after(() => {
  if (container) buildah('rm', container);
  buildah('rmi', '--force', TAG);
});

/** `buildah run` of the image's executable, on the host network (the sandbox listens on loopback). */
function inImage(env: Record<string, string>, args: string[], volume?: string) {
  const envFlags = Object.entries(env).flatMap(([key, value]) => ['--env', `${key}=${value}`]);
  const mount = volume ? ['--volume', volume] : [];
  return runProcess(['buildah', '--storage-driver', 'vfs', 'run', '--isolation', 'chroot', '--network', 'host', ...envFlags, ...mount, container, '--', '/opt/cmdb-hook/cmdb-hook', ...args]);
}

test('the image: FROM scratch with /opt/cmdb-hook only, a non-root user, OCI labels, the executable as entrypoint', () => {
  const config = JSON.parse(buildah('inspect', '--type', 'image', TAG)) as { OCIv1: { config: { User: string; Entrypoint: string[]; Labels: Record<string, string> } } };
  assert.equal(config.OCIv1.config.User, '65532:65532');
  assert.deepEqual(config.OCIv1.config.Entrypoint, ['/opt/cmdb-hook/cmdb-hook']);
  assert.equal(config.OCIv1.config.Labels['org.opencontainers.image.version'], '0.1.0');
  assert.equal(config.OCIv1.config.Labels['org.opencontainers.image.revision'], '0123456789ab');
  const mountPoint = buildah('mount', container).trim();
  try {
    assert.deepEqual(readdirSync(mountPoint).sort(), ['opt'], 'nothing but /opt: no shell, no libc of its own');
    assert.deepEqual(readdirSync(join(mountPoint, 'opt', 'cmdb-hook')).sort(), ['cmdb-hook', 'hooks', 'lib']);
  } finally {
    buildah('umount', container);
  }
});

test('in the image: --version, then a real register and deregister against the sandbox CMDB', async (t) => {
  const version = await inImage({}, ['--version']);
  assert.equal(version.stdout.trim(), '0.1.0', version.stderr);
  const { cmdb } = await scene(t);
  const env = downwardEnv();
  const flags = ['--cmdb-url', cmdb.url, '--cluster', 'c', '--container', 'app'];
  const registered = await inImage(env, ['register', ...flags]);
  assert.equal(registered.code, 0, registered.stderr);
  assert.equal(cmdb.records.get(`${env.POD_UID}_app`)?.pod.ip, env.POD_IP);
  const removed = await inImage(env, ['deregister', ...flags]);
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(cmdb.records.size, 0);
});

test('in the image, as an init container: install into a mounted folder copies the executable, lib/ and hooks/', async (t) => {
  const target = mkdtempSync(join(tmpdir(), 'cmdb-hook-injected-'));
  chmodSync(target, 0o777); // what an emptyDir is; the image runs as uid 65532
  t.after(() => rmSync(target, { recursive: true, force: true }));
  const run = await inImage({}, ['install', '/cmdb-hook'], `${target}:/cmdb-hook`);
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.stderr, /installed into \/cmdb-hook: 1\d file\(s\) written/);
  const files = readdirSync(target, { recursive: true }).map(String);
  for (const file of ['cmdb-hook', 'hooks/post-start', 'lib/ld-linux-x86-64.so.2', 'lib/libc.so.6']) assert.ok(files.includes(file), file);
});
