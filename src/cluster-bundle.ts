import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { getAsset, isSea } from 'node:sea';
import { compileFunction } from 'node:vm';
import { currentProgram } from './program.ts';

/**
 * The long-running modes (controller, ...) and their libraries (@kubernetes/client-node, prom-client) are a second
 * bundle, loaded only by those commands. In one bundle their ~2 MB of source would sit in every hook run's startup
 * snapshot and cost every postStart and preStop memory and time. scripts/build-bundle.ts builds it as
 * dist/cmdb-hook-cluster.cjs beside dist/cmdb-hook.cjs, and swaps the commands' dynamic import of cluster-side.ts for this loader;
 * the single executable carries it as a SEA asset of the same name.
 */
export const CLUSTER_BUNDLE = 'cmdb-hook-cluster.cjs';

export function loadClusterBundle(): unknown {
  const program = currentProgram();
  if (!isSea()) {
    const file = join(program.dir, CLUSTER_BUNDLE);
    if (!existsSync(file)) throw new Error(`the long-running modes' code ${file} is missing beside ${program.file}; ship both .cjs files of dist/`);
    return createRequire(program.file)(file);
  }
  // In the executable, require() reaches built-ins only; the asset is compiled as CommonJS with a require made for
  // the executable's path, which serves the built-ins the bundle asks for (all its libraries are inside it).
  const source = getAsset(CLUSTER_BUNDLE, 'utf8');
  const module = { exports: {} as unknown };
  const wrapper = compileFunction(source, ['module', 'exports', 'require', '__filename', '__dirname'], { filename: CLUSTER_BUNDLE }) as (...args: unknown[]) => void;
  wrapper(module, module.exports, createRequire(program.file), join(program.dir, CLUSTER_BUNDLE), program.dir);
  return module.exports;
}
