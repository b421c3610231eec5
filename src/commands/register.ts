import { buildConfig } from '../config.ts';
import { startInBackground } from '../lifecycle/background.ts';
import { register } from '../lifecycle/register.ts';
import type { CommandModule } from './command.ts';

export const registerCommand: CommandModule = {
  name: 'register',
  describe: 'postStart hook: wait until the app is ready, then upsert this container\'s record in the CMDB',
  prepare(argv, env) {
    const config = buildConfig('register', argv, env);
    const background = config.background && !config.dryRun;
    return { settings: config, run: (context) => (background ? startInBackground(config, context) : register(config, context)) };
  },
};
