import { loadHttpLibrary } from '../cmdb/http-client/client.ts';
import { prepareHook } from '../commands/prepare-hook.ts';
import { COMMANDS } from './commands.ts';
import { parseArgs } from './parse-args.ts';

/**
 * Build time only (src/main.ts, while the single executable's startup snapshot is made): parses a register and a
 * deregister command line, builds their config and loads the HTTP client, sending and printing nothing, so that the
 * snapshot holds this code loaded and compiled and a hook run starts from there.
 */
export async function warmUp(): Promise<void> {
  const env = { POD_UID: '00000000-0000-0000-0000-000000000000', POD_NAMESPACE: 'warm-up' };
  const common = ['--cmdb-url', 'http://127.0.0.1:9/records', '--cluster', 'warm-up', '--container', 'app', '--field', 'a=b'];
  for (const [command, ...extra] of [['register', '--ready-url', 'http://127.0.0.1:9/ready'], ['deregister', '--drain', '1s']] as const) {
    const parsed = await parseArgs([command, ...common, ...extra]);
    if (parsed?.command !== command) throw new Error(`warm-up: ${command} did not parse`);
    const options = COMMANDS.find((entry) => entry.name === command)?.options ?? [];
    prepareHook(command, options, parsed.argv, env).cmdb.open();
  }
  await loadHttpLibrary();
}

