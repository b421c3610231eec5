import { buildConfig } from '../config.ts';
import { deregister } from '../lifecycle/deregister.ts';
import type { CommandModule } from './command.ts';

export const deregisterCommand: CommandModule = {
  name: 'deregister',
  describe: 'preStop hook: delete (or retire) this container\'s record in the CMDB, then optionally drain',
  prepare(argv, env) {
    const config = buildConfig('deregister', argv, env);
    return { settings: config, run: (context) => deregister(config, context) };
  },
};
