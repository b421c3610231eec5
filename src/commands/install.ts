import { buildInstallConfig } from '../config/install-config.ts';
import { HOOK_OPTIONS } from '../config/options.ts';
import { install } from '../hooks/install.ts';
import { readSettings } from '../settings/read-settings.ts';
import { optionsFor, type CommandModule } from './command.ts';

const options = optionsFor('install', HOOK_OPTIONS);

export const installCommand: CommandModule = {
  name: 'install',
  positional: 'dir',
  describe: 'init container: copy this program (with hooks/ and lib/) into <dir>, atomically',
  options,
  prepare(argv, env) {
    const config = buildInstallConfig(argv, readSettings(options, 'install', argv, env));
    return { settings: config, effective: { ...config }, run: (context) => install(config.dir, context) };
  },
};
