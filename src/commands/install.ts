import { buildInstallConfig } from '../config.ts';
import { install } from '../lifecycle/install.ts';
import type { CommandModule } from './command.ts';

export const installCommand: CommandModule = {
  name: 'install',
  positional: 'dir',
  describe: 'init container: copy this program (with hooks/ and lib/) into <dir>, atomically',
  prepare(argv, env) {
    const config = buildInstallConfig(argv, env);
    return { settings: config, run: (context) => install(config.dir, context) };
  },
};
