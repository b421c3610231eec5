/**
 * `npm run build` step 2: the single executable folder dist/cmdb-hook/, to be placed at /opt/cmdb-hook:
 *   cmdb-hook      Node SEA of dist/cmdb-hook.mjs on the pinned runtime (code cache on, NODE_OPTIONS ignored)
 *   lib/           the shared libraries it needs and their loader, so it runs on glibc and musl-only images alike
 *   hooks/         post-start, pre-stop
 * Facts it follows (shared/PACKAGING.md): strip the Node binary BEFORE injecting (stripping after segfaults);
 * patchelf AFTER injecting. The ELF interpreter must be an absolute path, hence the fixed prefix.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, realpathSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';

export const PREFIX = '/opt/cmdb-hook';
const DIST = new URL('../../dist/', import.meta.url).pathname;
const OUT = join(DIST, 'cmdb-hook');
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
  main: join(DIST, 'cmdb-hook.mjs'),
  mainFormat: 'module',
  executable: base,
  output: join(OUT, 'cmdb-hook'),
  disableExperimentalSEAWarning: true,
  useCodeCache: true,
  // The app container's NODE_OPTIONS (a --require of a missing file, a tiny heap) must not reach the agent.
  execArgvExtension: 'none',
  // A 1 MB young generation: the agent's heap is small and short-lived; this saved ~9 MiB of peak RSS (bench).
  execArgv: ['--max-semi-space-size=1'],
}, null, 2));
run(process.execPath, '--build-sea', seaConfig);
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
// $ORIGIN needs /proc to expand; the absolute prefix works even where /proc is not mounted yet.
run('patchelf', '--set-interpreter', `${PREFIX}/lib/${loader}`, '--set-rpath', `${PREFIX}/lib:$ORIGIN/lib`, join(OUT, 'cmdb-hook'));

for (const hook of ['post-start', 'pre-stop']) {
  copyFileSync(new URL(`../../hooks/${hook}`, import.meta.url), join(OUT, 'hooks', hook));
  chmodSync(join(OUT, 'hooks', hook), 0o755);
}
console.log(`built ${OUT}: ${libraries.length} libraries in lib/, interpreter ${PREFIX}/lib/${loader}`);
