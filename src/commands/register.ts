import { CMDB_OPTIONS } from '../cmdb/factory.ts';
import { HOOK_OPTIONS } from '../config/options.ts';
import { startInBackground } from '../hooks/background.ts';
import { openHook } from '../hooks/open-hook.ts';
import { register } from '../hooks/register.ts';
import { optionsFor, type CommandModule } from './command.ts';
import { prepareHook } from './prepare-hook.ts';

const options = optionsFor('register', CMDB_OPTIONS, HOOK_OPTIONS);

export const registerCommand: CommandModule = {
  name: 'register',
  describe: 'postStart hook: wait until the app is ready, then upsert this container\'s record in the CMDB',
  options,
  prepare(argv, env) {
    const { config, cmdb, effective } = prepareHook('register', options, argv, env);
    const background = config.background && !config.dryRun;
    return {
      settings: config,
      effective,
      run: (context) => {
        const hook = openHook(config, cmdb, context);
        return background ? startInBackground(hook, context) : register(hook, context);
      },
    };
  },
};
