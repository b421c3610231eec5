/**
 * `npm test` step: the imports of src/ form no cycle, and no import goes back up the data flow that ARCHITECTURE.md
 * draws. Each layer below may import only the layers listed for it (and itself); a layer that is not listed here is
 * refused too, so a new folder has to find its place in the flow first. Prints one line per problem; exit 1 if any.
 */
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const ROOT = resolve(import.meta.dirname, '..');
const SRC = join(ROOT, 'src');

/** Top of the flow first. A layer is a folder of src/ or one top-level file (without .ts). */
const LAYERS: Readonly<Record<string, readonly string[]>> = {
  main: ['cli', 'program'],
  // warm-up.ts loads the HTTP client while the startup snapshot is built.
  cli: ['commands', 'cmdb', 'config', 'settings', 'errors', 'logger', 'retry', 'run-context', 'version', 'program'],
  commands: ['cluster-side', 'config', 'hooks', 'sidecar', 'cluster', 'queue', 'serve', 'pod', 'cmdb', 'settings', 'errors', 'logger', 'retry', 'run-context', 'version', 'program'],
  // The entry of the long-running modes' bundle (src/cluster-bundle.ts loads it; commands reach it by import()).
  'cluster-side': ['cluster', 'sidecar', 'queue', 'serve'],
  'cluster-bundle': ['program'],
  config: ['settings', 'errors'],
  hooks: ['config', 'pod', 'readiness', 'cmdb', 'retry', 'settings', 'errors', 'logger', 'run-context', 'version', 'program'],
  sidecar: ['hooks', 'config', 'serve', 'pod', 'readiness', 'cmdb', 'retry', 'settings', 'errors', 'logger', 'run-context', 'version'],
  cluster: ['config', 'serve', 'pod', 'cmdb', 'retry', 'settings', 'errors', 'logger', 'run-context', 'version'],
  queue: ['cluster', 'config', 'serve', 'pod', 'cmdb', 'retry', 'settings', 'errors', 'logger', 'run-context', 'version'],
  serve: ['retry', 'settings', 'errors', 'logger'],
  'run-context': ['logger', 'retry'],
  pod: ['settings', 'errors', 'version'],
  readiness: ['retry', 'settings', 'errors', 'logger'],
  cmdb: ['pod', 'retry', 'settings', 'errors', 'logger', 'version'],
  retry: ['settings', 'errors', 'logger'],
  logger: ['settings', 'errors'],
  settings: ['errors'],
  errors: [],
  program: [],
  version: [],
};

const IMPORT = /(?:^|\n)\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|import\(\s*['"]([^'"]+)['"]\s*\)/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|cts|mts)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

function layerOf(file: string): string {
  const [first = ''] = relative(SRC, file).split('/');
  return first.replace(/\.[cm]?ts$/, '');
}

const files = sourceFiles(SRC);
const graph = new Map<string, string[]>();
const problems: string[] = [];
for (const file of files) {
  const text = readFileSync(file, 'utf8');
  const targets: string[] = [];
  for (const match of text.matchAll(IMPORT)) {
    const specifier = match[1] ?? match[2] ?? '';
    if (!specifier.startsWith('.')) continue;
    const target = resolve(dirname(file), specifier);
    targets.push(target);
    const from = layerOf(file);
    const to = layerOf(target);
    if (!target.startsWith(`${SRC}/`)) problems.push(`${relative(ROOT, file)} imports ${specifier}, outside src/`);
    else if (!(from in LAYERS)) problems.push(`${relative(ROOT, file)}: layer '${from}' has no place in scripts/check-imports.ts; add it to the flow`);
    else if (from !== to && !LAYERS[from]?.includes(to)) problems.push(`${relative(ROOT, file)} (${from}) imports ${relative(ROOT, target)} (${to}): that arrow goes back up the flow`);
  }
  graph.set(file, targets);
}

// Tarjan's strongly connected components: every component of more than one file (or a file importing itself) is a cycle.
let index = 0;
const order = new Map<string, number>();
const low = new Map<string, number>();
const stack: string[] = [];
const onStack = new Set<string>();
function visit(file: string): void {
  order.set(file, index);
  low.set(file, index++);
  stack.push(file);
  onStack.add(file);
  for (const next of graph.get(file) ?? []) {
    if (!graph.has(next)) continue;
    if (!order.has(next)) {
      visit(next);
      low.set(file, Math.min(low.get(file) ?? 0, low.get(next) ?? 0));
    } else if (onStack.has(next)) {
      low.set(file, Math.min(low.get(file) ?? 0, order.get(next) ?? 0));
    }
  }
  if (low.get(file) !== order.get(file)) return;
  const component: string[] = [];
  let member: string | undefined;
  do {
    member = stack.pop();
    if (member === undefined) break;
    onStack.delete(member);
    component.push(member);
  } while (member !== file);
  if (component.length > 1 || graph.get(file)?.includes(file)) {
    problems.push(`import cycle: ${component.map((path) => relative(ROOT, path)).sort().join(' <-> ')}`);
  }
}
for (const file of graph.keys()) if (!order.has(file)) visit(file);

for (const problem of problems) console.error(problem);
if (problems.length > 0) {
  console.error(`check-imports: ${problems.length} problem(s) in the imports of src/`);
  process.exitCode = 1;
} else {
  console.log(`check-imports: ${files.length} files of src/, no cycle, no arrow back up`);
}
