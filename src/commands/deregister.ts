import type { Config } from '../config.ts';
import type { Outcome, RunContext } from '../lifecycle/context.ts';
import { deregister } from '../lifecycle/deregister.ts';

export const deregisterCommand = {
  name: 'deregister',
  describe: 'preStop hook: delete (or retire) this container\'s record in the CMDB, then optionally drain',
  run: (config: Config, context: RunContext): Promise<Outcome> => deregister(config, context),
} as const;
