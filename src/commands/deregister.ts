import { CMDB_OPTIONS } from '../cmdb/factory.ts';
import { HOOK_OPTIONS } from '../config/options.ts';
import { deregister } from '../hooks/deregister.ts';
import { openHook } from '../hooks/open-hook.ts';
import { optionsFor, type CommandModule } from './command.ts';
import { prepareHook } from './prepare-hook.ts';

const options = optionsFor('deregister', CMDB_OPTIONS, HOOK_OPTIONS);

export const deregisterCommand: CommandModule = {
  name: 'deregister',
  describe: 'preStop hook: delete (or retire) this container\'s record in the CMDB, then optionally drain',
  options,
  prepare(argv, env) {
    const { config, cmdb, effective } = prepareHook('deregister', options, argv, env);
    return { settings: config, effective, run: (context) => deregister(openHook(config, cmdb, context), context) };
  },
};
