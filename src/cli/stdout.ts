import { writeSync } from 'node:fs';
import type { Logger } from '../logger.ts';

/**
 * What a run prints on stdout (a --dry-run's plan, version). Written with writeSync, so a summary on stderr never
 * overtakes it. A reader that has gone (`cmdb-hook controller --dry-run | head`: EPIPE) is not a bug: what it wanted
 * was read. The rest of the output is dropped, one log line says so, and the writer answers false, so a long-running
 * --dry-run, whose only product is this output, can stop instead of running on for nobody.
 */
export function stdoutPrinter(log: Logger): (value: unknown) => boolean {
  let open = true;
  return (value) => {
    if (!open) return false;
    try {
      writeSync(1, `${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`);
      return true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EPIPE') throw error;
      open = false;
      log.warn('stdout was closed by its reader: the rest of the output is dropped');
      return false;
    }
  };
}
