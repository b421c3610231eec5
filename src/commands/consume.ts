import { CMDB_OPTIONS, configureCmdb } from '../cmdb/factory.ts';
import { buildConsumeConfig } from '../config/consume-config.ts';
import { HOOK_OPTIONS } from '../config/options.ts';
import { CONTROLLER_OPTIONS } from '../config/controller-options.ts';
import { QUEUE_OPTIONS } from '../config/queue-options.ts';
import { readSettings } from '../settings/read-settings.ts';
import { checkClusterRuntime } from './cluster-runtime.ts';
import { optionsFor, type CommandModule } from './command.ts';

const options = optionsFor('consume', CMDB_OPTIONS, HOOK_OPTIONS, CONTROLLER_OPTIONS, QUEUE_OPTIONS);

export const consumeCommand: CommandModule = {
  name: 'consume',
  describe: 'Apply the controller\'s published transitions (--sink nats or rabbitmq) to the CMDB, idempotently, latest transition wins',
  options,
  prepare(argv, env) {
    checkClusterRuntime('consume');
    const read = readSettings(options, 'consume', argv, env);
    const cmdb = configureCmdb(read, { command: 'consume', deregisterAction: read.text('deregister-action'), urlRequired: true });
    const config = buildConsumeConfig(read, { deregisterAction: cmdb.deregisterAction });
    const { url, tokenFile, tls, requestTimeoutMs } = cmdb.connection;
    return {
      settings: config,
      effective: { ...config, cmdbKind: cmdb.kind, cmdbUrl: url, cmdbTokenFile: tokenFile, tls: Object.keys(tls), requestTimeoutMs },
      run: async (context) => {
        // The second bundle (src/cluster-bundle.ts): a hook run never loads it.
        const { runConsume } = await import('../cluster-side.ts');
        return runConsume(config, { kind: cmdb.kind, open: () => cmdb.open(), requestTimeoutMs }, context);
      },
    };
  },
};
