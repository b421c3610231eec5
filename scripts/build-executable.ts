/**
 * `npm run build` step 2: the single executable folder dist/cmdb-hook/, to be placed at /opt/cmdb-hook:
 *   cmdb-hook      Node SEA of dist/cmdb-hook.cjs on the pinned runtime, started from a V8 startup snapshot of the
 *                  loaded and warmed-up program (src/main.ts), NODE_OPTIONS ignored
 *   lib/           the shared libraries it needs and their loader, so it runs on glibc and musl-only images alike
 *   hooks/         post-start, pre-stop
 * Facts it follows: strip the Node binary BEFORE injecting (stripping after segfaults);
 * patchelf AFTER injecting. The ELF interpreter must be an absolute path, hence the fixed prefix.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export const PREFIX = '/opt/cmdb-hook';
const DIST = new URL('../dist/', import.meta.url).pathname;
const OUT = join(DIST, 'cmdb-hook');
const BUNDLE = join(DIST, 'cmdb-hook.cjs');
const run = (file: string, ...args: string[]) => execFileSync(file, args, { encoding: 'utf8' });

rmSync(OUT, { recursive: true, force: true });
mkdirSync(join(OUT, 'lib'), { recursive: true });
mkdirSync(join(OUT, 'hooks'), { recursive: true });

const base = join(DIST, 'node-stripped');
copyFileSync(realpathSync(process.execPath), base);
chmodSync(base, 0o755);
run('strip', base);

const seaConfig = join(DIST, 'sea-config.json');
writeFileSync(seaConfig, JSON.stringify({
  main: BUNDLE,
  mainFormat: 'commonjs',
  executable: base,
  output: join(OUT, 'cmdb-hook'),
  disableExperimentalSEAWarning: true,
  // The long-running modes' bundle, read by src/cluster-bundle.ts only when such a mode runs.
  assets: { 'cmdb-hook-cluster.cjs': join(DIST, 'cmdb-hook-cluster.cjs') },
  // The heap after loading and warming up (src/main.ts) is saved at build time; a run deserializes it instead of
  // loading yargs, got and pino again. (The code cache does not apply to a snapshot.) scripts/bundle-prelude.cjs
  // keeps what V8 cannot serialize out of it.
  useSnapshot: true,
  // The app container's NODE_OPTIONS (a --require of a missing file, a tiny heap) must not reach the agent: only a
  // first argument `--node-options=...` extends execArgv (`--node-options=--no-lite-mode` undoes the default below).
  execArgvExtension: 'cli',
  // A 1 MB young generation: the agent's heap is small and short-lived; this saved ~9 MiB of peak RSS (bench).
  // V8's lite mode (no optimizing compiler, no WebAssembly: nothing here uses either) for every command: a register
  // waiting 20 s for its app peaks at ~69 MiB instead of ~92 (the optimized code and feedback of the polling loop),
  // the sidecar idles at ~65 MiB instead of ~90, the controller with 10,000 pods at ~130 instead of ~160, for ~10%
  // more start-up time (deregister 84 -> 92 ms) and 5 to 20% more CPU where the program is busy (npm run bench).
  // Read only when the process starts, and not allowed in NODE_OPTIONS: so it is set here.
  execArgv: ['--max-semi-space-size=1', '--lite-mode'],
}, null, 2));
// Node warns that modules such as child_process and worker_threads are "not yet fully verified" in snapshots; the
// e2e suite runs against this executable (npm run test:executable) and covers the paths that use them.
execFileSync(process.execPath, ['--build-sea', seaConfig], { encoding: 'utf8', env: { ...process.env, NODE_NO_WARNINGS: '1' } });
rmSync(base);

// The libraries the executable links, as ldd resolves them on this (glibc) build machine, plus the loader.
const libraries = run('ldd', join(OUT, 'cmdb-hook'))
  .split('\n')
  .map((line) => /(?:=>\s*)?(\/\S+)\s+\(0x/.exec(line)?.[1])
  .filter((path): path is string => path !== undefined);
let loader = '';
for (const path of libraries) {
  copyFileSync(realpathSync(path), join(OUT, 'lib', basename(path)));
  if (basename(path).startsWith('ld-linux')) loader = basename(path);
}
if (!loader) throw new Error('ldd named no ELF loader');
// $ORIGIN needs /proc to expand; the absolute prefix works even where /proc is not mounted yet. DT_RPATH, not
// RUNPATH (--force-rpath): the loader searches RUNPATH only after LD_LIBRARY_PATH, so an app image that sets
// LD_LIBRARY_PATH (old-glibc images often do) would slip its own libc or libstdc++ under the shipped loader.
run('patchelf', '--set-interpreter', `${PREFIX}/lib/${loader}`, '--force-rpath', '--set-rpath', `${PREFIX}/lib:$ORIGIN/lib`, join(OUT, 'cmdb-hook'));

for (const hook of ['post-start', 'pre-stop']) {
  copyFileSync(new URL(`../hooks/${hook}`, import.meta.url), join(OUT, 'hooks', hook));
  chmodSync(join(OUT, 'hooks', hook), 0o755);
}
console.log(`built ${OUT}: ${libraries.length} libraries in lib/, interpreter ${PREFIX}/lib/${loader}`);
