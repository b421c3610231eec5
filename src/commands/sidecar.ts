import { CMDB_OPTIONS } from '../cmdb/factory.ts';
import { CONTROLLER_OPTIONS } from '../config/controller-options.ts';
import { HOOK_OPTIONS } from '../config/options.ts';
import { buildSidecarConfig } from '../config/sidecar-config.ts';
import { SIDECAR_OPTIONS } from '../config/sidecar-options.ts';
import { formatCidr } from '../settings/cidr.ts';
import { optionsFor, type CommandModule } from './command.ts';
import { prepareHook } from './prepare-hook.ts';

const options = optionsFor('sidecar', CMDB_OPTIONS, HOOK_OPTIONS, CONTROLLER_OPTIONS, SIDECAR_OPTIONS);

export const sidecarCommand: CommandModule = {
  name: 'sidecar',
  describe: 'native sidecar: register once the app is ready (GET /readyz 200 then), deregister on GET /deregister or SIGTERM',
  options,
  prepare(argv, env) {
    const { config: hook, cmdb, read, effective } = prepareHook('sidecar', options, argv, env);
    const config = buildSidecarConfig(hook, read, env);
    const { listen, trustedFrom, heartbeatMs, deregisterTimeoutMs } = config;
    return {
      settings: config,
      effective: { ...effective, listen, trusted: config.trusted.map(formatCidr), trustedFrom, heartbeatMs, deregisterTimeoutMs },
      run: async (context) => {
        // Loaded only by this command (its endpoints and loops): register and deregister runs never compile it.
        const { runSidecar } = await import('../sidecar/run-sidecar.ts');
        return runSidecar(config, cmdb, context);
      },
    };
  },
};
