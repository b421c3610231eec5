import { CMDB_OPTIONS, configureCmdb } from '../cmdb/factory.ts';
import { CONTROLLER_OPTIONS } from '../config/controller-options.ts';
import { buildControllerConfig } from '../config/controller-config.ts';
import { HOOK_OPTIONS } from '../config/options.ts';
import { readSettings } from '../settings/read-settings.ts';
import { optionsFor, type CommandModule } from './command.ts';

const options = optionsFor('controller', CMDB_OPTIONS, HOOK_OPTIONS, CONTROLLER_OPTIONS);

export const controllerCommand: CommandModule = {
  name: 'controller',
  describe: 'Watch the cluster\'s pods and keep their CMDB records converged: backfill, update, retire what hooks never saw',
  options,
  prepare(argv, env) {
    const read = readSettings(options, 'controller', argv, env);
    // Even --dry-run lists the CMDB's records: the plan is the difference.
    const cmdb = configureCmdb(read, { command: 'controller', deregisterAction: read.text('deregister-action'), urlRequired: true });
    const config = buildControllerConfig(read, { deregisterAction: cmdb.deregisterAction });
    const { url, tokenFile, tls, requestTimeoutMs } = cmdb.connection;
    return {
      settings: config,
      effective: { ...config, cmdbKind: cmdb.kind, cmdbUrl: url, cmdbTokenFile: tokenFile, tls: Object.keys(tls), requestTimeoutMs },
      run: async (context) => {
        // The second bundle (src/cluster-bundle.ts): a hook run never loads it.
        const { runController } = await import('../cluster-side.ts');
        return runController(config, { kind: cmdb.kind, open: () => cmdb.open(), requestTimeoutMs }, context);
      },
    };
  },
};
