/**
 * `npm run build` step 1: dist/cmdb-hook.cjs (and dist/cmdb-hook-cluster.cjs, the long-running modes: see
 * src/cluster-bundle.ts), one CommonJS file for images that already carry Node 26, and the main
 * script of the single executable's startup snapshot (step 2). CommonJS because a snapshot's main script must be
 * one, and because `require` of a built-in skips the ES module facade, whose creation loads every lazy export of
 * node:http (undici among them: ~25% of a run's start-up). scripts/bundle-prelude.cjs runs first.
 * Build facts (commit, time) are baked in for `cmdb-hook version --json`.
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { build, type Plugin } from 'esbuild';

const DIST = new URL('../dist/', import.meta.url).pathname;
const BUNDLE = join(DIST, 'cmdb-hook.cjs');
const CLUSTER_BUNDLE = join(DIST, 'cmdb-hook-cluster.cjs');

/**
 * The built-ins whose bindings cannot go into a snapshot, with what their importers read while loading: data that
 * can be copied (http2.constants), and functions that can be forwarded without loading the module.
 */
const LAZY_BUILTINS: Record<string, { data?: string[]; forward?: string[] }> = {
  http: {},
  https: {},
  http2: { data: ['constants'] },
  tls: { forward: ['checkServerIdentity'] },
};

function lazyBuiltins(): string {
  const require = createRequire(import.meta.url);
  const specs = Object.entries(LAZY_BUILTINS).map(([name, { data = [], forward = [] }]) => {
    const module = require(`node:${name}`) as Record<string, unknown>;
    return [name, { keys: Object.getOwnPropertyNames(module), data: Object.fromEntries(data.map((key) => [key, module[key]])), forward }];
  });
  return JSON.stringify(Object.fromEntries(specs));
}

/** The commit built: CMDB_HOOK_COMMIT when given (the Dockerfile's build stage has no .git), else git's HEAD. */
function commit(): string {
  if (process.env.CMDB_HOOK_COMMIT) return process.env.CMDB_HOOK_COMMIT;
  try {
    return execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return 'unknown';
  }
}

const PLACEHOLDER = '/* LAZY_BUILTINS */ {}';
const preludeSource = readFileSync(new URL('bundle-prelude.cjs', import.meta.url), 'utf8');
if (!preludeSource.includes(PLACEHOLDER)) throw new Error(`scripts/bundle-prelude.cjs lost its ${PLACEHOLDER} placeholder`);
const prelude = preludeSource.replace(PLACEHOLDER, lazyBuiltins());
const SRC = new URL('../src/', import.meta.url).pathname;
const common = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node26',
  logLevel: 'warning',
  // The bundle's source lives in the snapshot's heap for the whole run: no comments or blank space (one non-ASCII
  // character in a comment would also make the whole source a two-byte string). Names stay, for stack traces.
  minifyWhitespace: true,
  minifySyntax: true,
  legalComments: 'none',
  charset: 'ascii',
} as const;
const buildFacts = JSON.stringify({ commit: commit(), time: new Date().toISOString() });

/** In the hooks' bundle, `import('./cluster-side.ts')` becomes src/cluster-bundle.ts's loader of the second bundle. */
const clusterSideLoader: Plugin = {
  name: 'cluster-side-loader',
  setup(builder) {
    builder.onResolve({ filter: /\/cluster-side\.ts$/ }, () => ({ path: 'cluster-side', namespace: 'cmdb-hook-cluster-side' }));
    builder.onLoad({ filter: /.*/, namespace: 'cmdb-hook-cluster-side' }, () => ({
      contents: "module.exports = require('./cluster-bundle.ts').loadClusterBundle();",
      loader: 'js',
      resolveDir: SRC,
    }));
  },
};

await build({
  ...common,
  entryPoints: [join(SRC, 'main.ts')],
  outfile: BUNDLE,
  define: { CMDB_HOOK_BUILD: buildFacts, 'import.meta.url': '__cmdbHookImportMetaUrl' },
  banner: { js: `#!/usr/bin/env node\n${prelude}` },
  plugins: [clusterSideLoader],
});
// The long-running modes: never in a snapshot, so no prelude; loaded by the loader above.
await build({
  ...common,
  entryPoints: [join(SRC, 'cluster-side.ts')],
  outfile: CLUSTER_BUNDLE,
  define: { CMDB_HOOK_BUILD: buildFacts, 'import.meta.url': '__cmdbHookImportMetaUrl' },
  banner: { js: "var __cmdbHookImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
});
// charset 'ascii' escapes strings and names but leaves regular expression literals as written, and one non-ASCII
// character there (a NATS library's /µs/, NetBox's description pattern) makes V8 hold the whole source as a two-byte
// string for the process's life: the controller's 2.5 MB source then takes 5.2 MB of heap, the hooks' 0.7 MB 1.4 MB
// (heap snapshot). \uXXXX means the same character in a regular expression as in a string.
for (const file of [BUNDLE, CLUSTER_BUNDLE]) {
  const source = readFileSync(file, 'utf8');
  writeFileSync(file, source.replace(/[\u0080-\uffff]/g, (unit) => `\\u${unit.charCodeAt(0).toString(16).padStart(4, '0')}`));
}
chmodSync(BUNDLE, 0o755);
mkdirSync(join(DIST, 'hooks'), { recursive: true });
for (const hook of ['post-start', 'pre-stop']) copyFileSync(new URL(`../hooks/${hook}`, import.meta.url), join(DIST, 'hooks', hook));
