import { realpathSync } from 'node:fs';
import { dirname } from 'node:path';
import { isSea } from 'node:sea';

/**
 * How to start this same program again, and where its files are: the single executable alone, or the pinned Node
 * plus the bundled script. Used by `install` (what to copy) and `register --background` (what to spawn).
 */
export interface Program {
  /** argv[0..] that runs the program. */
  command: string[];
  /** The file that is the program: the executable, or the bundle. */
  file: string;
  /** The folder around it, which may hold hooks/ and lib/. */
  dir: string;
}

export function currentProgram(): Program {
  // Through a symlink (e.g. /usr/local/bin/cmdb-hook), hooks/ and lib/ are beside the real file, not the link.
  const file = realpathSync(isSea() ? process.execPath : (process.argv[1] ?? process.execPath));
  return { command: isSea() ? [process.execPath] : [process.execPath, file], file, dir: dirname(file) };
}

let fromSnapshot = false;

/** Called by src/main.ts when a run starts from the startup snapshot, so `version --json` can say so. */
export function markStartedFromSnapshot(): void {
  fromSnapshot = true;
}

export function startedFromSnapshot(): boolean {
  return fromSnapshot;
}
