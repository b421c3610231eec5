import { CMDB_OPTIONS, configureCmdb } from '../cmdb/factory.ts';
import { CONTROLLER_OPTIONS } from '../config/controller-options.ts';
import { buildControllerConfig } from '../config/controller-config.ts';
import { HOOK_OPTIONS } from '../config/options.ts';
import { QUEUE_OPTIONS } from '../config/queue-options.ts';
import { ConfigError } from '../errors.ts';
import { settingName } from '../settings/option.ts';
import { readSettings } from '../settings/read-settings.ts';
import { checkClusterRuntime } from './cluster-runtime.ts';
import { optionsFor, type CommandModule } from './command.ts';

const options = optionsFor('controller', CMDB_OPTIONS, HOOK_OPTIONS, CONTROLLER_OPTIONS, QUEUE_OPTIONS);

export const controllerCommand: CommandModule = {
  name: 'controller',
  describe: 'Watch the cluster\'s pods and keep their CMDB records converged: backfill, update, retire what hooks never saw',
  options,
  prepare(argv, env) {
    checkClusterRuntime('controller');
    const read = readSettings(options, 'controller', argv, env);
    const toBroker = read.text('sink')?.trim() !== 'cmdb';
    // With --sink, the consumers write the CMDB: a CMDB setting here would be silently unused.
    for (const flag of ['cmdb-url', 'deregister-action']) {
      if (toBroker && read.given(flag)) throw new ConfigError(`${settingName(flag)} is not used with ${settingName('sink')} ${read.text('sink') ?? ''}: the consumers (cmdb-hook consume) write the CMDB; remove it`);
    }
    // Even --dry-run lists the CMDB's records: the plan is the difference.
    const cmdb = configureCmdb(read, { command: 'controller', deregisterAction: read.text('deregister-action'), urlRequired: !toBroker });
    const config = buildControllerConfig(read, { deregisterAction: cmdb.deregisterAction });
    const { url, tokenFile, tls, requestTimeoutMs } = cmdb.connection;
    return {
      settings: config,
      effective: config.sink ? { ...config } : { ...config, cmdbKind: cmdb.kind, cmdbUrl: url, cmdbTokenFile: tokenFile, tls: Object.keys(tls), requestTimeoutMs },
      run: async (context) => {
        // The second bundle (src/cluster-bundle.ts): a hook run never loads it.
        const side = await import('../cluster-side.ts');
        if (config.sink) return side.runPublisher(config, config.sink, context);
        return side.runController(config, { kind: cmdb.kind, open: () => cmdb.open(), requestTimeoutMs }, context);
      },
    };
  },
};
