import { isSea } from 'node:sea';
import { dirname } from 'node:path';

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
  const file = isSea() ? process.execPath : (process.argv[1] ?? process.execPath);
  return { command: isSea() ? [process.execPath] : [process.execPath, file], file, dir: dirname(file) };
}
