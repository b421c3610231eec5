/**
 * `npm run build` step 1: dist/cmdb-hook.mjs, one ESM file for images that already carry Node 26, plus
 * dist/hooks/. Build facts (commit, time) are baked in for `cmdb-hook version --json`.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const DIST = new URL('../../dist/', import.meta.url).pathname;

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

await build({
  entryPoints: [new URL('../main.ts', import.meta.url).pathname],
  outfile: join(DIST, 'cmdb-hook.mjs'),
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node26',
  logLevel: 'warning',
  define: { CMDB_HOOK_BUILD: JSON.stringify({ commit: commit(), time: new Date().toISOString() }) },
  // yargs and got use require() in places; an ESM bundle needs one (shared/PACKAGING.md).
  banner: { js: "#!/usr/bin/env node\nimport { createRequire as bannerCreateRequire } from 'node:module'; const require = bannerCreateRequire(import.meta.url);" },
});
chmodSync(join(DIST, 'cmdb-hook.mjs'), 0o755);
mkdirSync(join(DIST, 'hooks'), { recursive: true });
for (const hook of ['post-start', 'pre-stop']) copyFileSync(new URL(`../../hooks/${hook}`, import.meta.url), join(DIST, 'hooks', hook));
