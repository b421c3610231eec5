import { configureCmdb, type CmdbSetup } from '../cmdb/factory.ts';
import { buildHookConfig, type HookConfig } from '../config/hook-config.ts';
import type { OptionSpec } from '../settings/option.ts';
import { readSettings, type Argv } from '../settings/read-settings.ts';

/**
 * register's, deregister's and the sidecar's config, built once: the CMDB's settings (cmdb/ checks its own and each
 * backend's), then the hook's, with the backend's default for --deregister-action. The reader goes back too, for the
 * sidecar's own settings.
 */
export function prepareHook(command: HookConfig['command'], options: readonly OptionSpec[], argv: Argv, env: NodeJS.ProcessEnv) {
  const read = readSettings(options, command, argv, env);
  const cmdb = configureCmdb(read, { command, deregisterAction: read.text('deregister-action'), urlRequired: !read.bool('dry-run') });
  const config = buildHookConfig(command, read, { deregisterAction: cmdb.deregisterAction });
  return { config, cmdb, read, effective: effectiveOf(config, cmdb) };
}

/** The config as the debug log shows it: TLS material by which parts are set, never their content. */
function effectiveOf(config: HookConfig, cmdb: CmdbSetup): Record<string, unknown> {
  const { url, tokenFile, tls, requestTimeoutMs } = cmdb.connection;
  return { ...config, cmdbKind: cmdb.kind, cmdbUrl: url, cmdbTokenFile: tokenFile, tls: Object.keys(tls), requestTimeoutMs };
}
