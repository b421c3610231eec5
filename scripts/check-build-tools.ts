/**
 * `npm run build` step 0: strip, patchelf and ldd are on PATH, or one line naming the missing ones and the command
 * that installs them, before anything is written to dist/.
 */
import { installCommand, lacksLine, missingTools, toolsFor } from './tools.ts';

const missing = missingTools(toolsFor('build'));
if (missing.length) {
  console.error(lacksLine('npm run build', missing.map((tool) => tool.command), installCommand(missing)));
  process.exitCode = 1;
}
