import type { Config } from '../config.ts';
import type { Outcome, RunContext } from '../lifecycle/context.ts';
import { register } from '../lifecycle/register.ts';

export const registerCommand = {
  name: 'register',
  describe: 'postStart hook: wait until the app is ready, then upsert this container\'s record in the CMDB',
  run: (config: Config, context: RunContext): Promise<Outcome> => register(config, context),
} as const;
