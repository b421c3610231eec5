/**
 * Puts dist/cmdb-hook/ at /opt/cmdb-hook, the path it is built for (its ELF interpreter and rpath point there), so
 * the tests can run the single executable as an image would. Needs root, as CI has. Run alone before the e2e pass
 * on the executable: node test/support/place-executable.ts
 */
import { cpSync, existsSync, rmSync } from 'node:fs';

export const BUILT = new URL('../../dist/cmdb-hook/', import.meta.url).pathname;
export const PLACED = '/opt/cmdb-hook';
export const EXECUTABLE = `${PLACED}/cmdb-hook`;

export function placeExecutable(): string {
  if (!existsSync(`${BUILT}cmdb-hook`)) throw new Error('dist/cmdb-hook/cmdb-hook is missing: run npm run build');
  rmSync(PLACED, { recursive: true, force: true });
  cpSync(BUILT, PLACED, { recursive: true, preserveTimestamps: true });
  return EXECUTABLE;
}

if (import.meta.main) console.log(`placed ${placeExecutable()}`);
