/**
 * Every flag of every command, in one table: yargs declares them from it, src/config.ts reads their env vars from it,
 * and the README's flag table is checked against it by a test. Names are a public contract: add, never rename.
 */
export type CommandName = 'register' | 'deregister' | 'install' | 'version';

export interface OptionSpec {
  readonly flag: string;
  readonly type: 'string' | 'boolean' | 'array';
  readonly commands: readonly CommandName[];
  /** A default for every command, or one per command. */
  readonly default?: string | Readonly<Record<CommandName, string>>;
  readonly describe: string;
}

const BOTH: readonly CommandName[] = ['register', 'deregister'];
const ALL: readonly CommandName[] = ['register', 'deregister', 'install'];

export const OPTIONS: readonly OptionSpec[] = [
  { flag: 'cmdb-url', type: 'string', commands: BOTH, describe: 'Base URL of the CMDB API (http or https). Required unless --dry-run.' },
  { flag: 'cmdb-kind', type: 'string', commands: BOTH, default: 'http', describe: 'CMDB backend: http (generic protocol v1), template, netbox or servicenow.' },
  { flag: 'cmdb-token-file', type: 'string', commands: BOTH, describe: 'File holding the bearer token (re-read every run, whitespace trimmed).' },
  { flag: 'cmdb-user', type: 'string', commands: BOTH, describe: 'servicenow: user for HTTP basic auth (with --cmdb-password-file), instead of a token.' },
  { flag: 'cmdb-password-file', type: 'string', commands: BOTH, describe: 'servicenow: file holding the password of --cmdb-user (re-read every run).' },
  { flag: 'cmdb-ca-file', type: 'string', commands: BOTH, describe: 'PEM file of the CA(s) that sign the CMDB certificate.' },
  { flag: 'cmdb-cert-file', type: 'string', commands: BOTH, describe: 'PEM client certificate for mTLS (needs --cmdb-key-file).' },
  { flag: 'cmdb-key-file', type: 'string', commands: BOTH, describe: 'PEM private key for mTLS (needs --cmdb-cert-file).' },
  { flag: 'template-file', type: 'string', commands: BOTH, describe: 'template: JSON file describing the register and deregister requests (a mounted ConfigMap).' },
  { flag: 'netbox-tenant', type: 'string', commands: BOTH, describe: 'netbox: slug of the tenant the IP addresses belong to.' },
  { flag: 'netbox-tag', type: 'array', commands: BOTH, describe: 'netbox: slug of a tag to put on the IP addresses; repeat the flag. Env var: one per line.' },
  { flag: 'netbox-vrf', type: 'string', commands: BOTH, describe: 'netbox: name of the VRF of the pod IPs (default: the global table).' },
  { flag: 'servicenow-data-source', type: 'string', commands: BOTH, describe: 'servicenow: the discovery source (sysparm_data_source) of Identification and Reconciliation.' },
  { flag: 'request-timeout', type: 'string', commands: BOTH, default: '10s', describe: 'Limit of one CMDB request attempt (never past --timeout).' },
  { flag: 'cluster', type: 'string', commands: BOTH, describe: 'Cluster name written in the record. Required.' },
  { flag: 'container', type: 'string', commands: BOTH, describe: 'Name of this container (the Downward API has no field for it). Required.' },
  { flag: 'app', type: 'string', commands: BOTH, describe: 'Application system name. Default: label app.kubernetes.io/name, then label app.' },
  { flag: 'field', type: 'array', commands: BOTH, describe: 'Extra record field key=value; repeat the flag. Env var: one key=value per line.' },
  { flag: 'timeout', type: 'string', commands: ALL, default: { register: '300s', deregister: '10s', install: '60s', version: '5s' }, describe: 'One deadline for the whole run.' },
  { flag: 'strict', type: 'boolean', commands: BOTH, default: 'false', describe: 'Exit non-zero (3, 4, 5) when not ready or the CMDB fails, instead of 0.' },
  { flag: 'dry-run', type: 'boolean', commands: BOTH, default: 'false', describe: 'Print the request that would be sent (token masked); send nothing.' },
  { flag: 'log-level', type: 'string', commands: ALL, default: 'info', describe: 'trace, debug, info, warn, error, fatal or silent.' },
  { flag: 'log-file', type: 'string', commands: BOTH, describe: 'Extra best-effort log destination, e.g. /proc/1/fd/1; never fatal.' },
  { flag: 'podinfo-dir', type: 'string', commands: BOTH, default: '/etc/podinfo', describe: 'downwardAPI volume with the labels and annotations files.' },
  { flag: 'namespace-file', type: 'string', commands: BOTH, default: '/var/run/secrets/kubernetes.io/serviceaccount/namespace', describe: 'Fallback for the namespace when POD_NAMESPACE is unset.' },
  { flag: 'ready-url', type: 'string', commands: ['register'], describe: 'Readiness URL (http or https), checked like the kubelet httpGet probe.' },
  { flag: 'ready-tcp', type: 'string', commands: ['register'], describe: 'Readiness TCP port or host:port (port alone: 127.0.0.1 and ::1).' },
  { flag: 'ready-interval', type: 'string', commands: ['register'], default: '30ms', describe: 'Pause between readiness checks (short: the CMDB should know within tens of ms).' },
  { flag: 'ready-timeout', type: 'string', commands: ['register'], default: '1s', describe: 'Limit of one readiness check (the kubelet default).' },
  { flag: 'background', type: 'boolean', commands: ['register'], default: 'false', describe: 'Return at once; a detached process waits and registers (NetworkPolicy clusters).' },
  { flag: 'deregister-action', type: 'string', commands: ['deregister'], describe: 'delete, or retire (keep the record marked gone). Default: delete; retire with --cmdb-kind servicenow.' },
  { flag: 'json', type: 'boolean', commands: ['version'], default: 'false', describe: 'version: print version, runtime and build as JSON.' },
  { flag: 'drain', type: 'string', commands: ['deregister'], default: '0s', describe: 'After deregistering, wait this long before returning (routers converge).' },
];

/** `cmdb-url` -> `CMDB_HOOK_CMDB_URL`. */
export function envVarOf(flag: string): string {
  return `CMDB_HOOK_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** How messages name a setting: both spellings, since users set either. */
export function settingName(flag: string): string {
  return `--${flag} (${envVarOf(flag)})`;
}

export function optionsOf(command: CommandName): OptionSpec[] {
  return OPTIONS.filter((option) => option.commands.includes(command));
}

export function defaultOf(option: OptionSpec, command: CommandName): string | undefined {
  return typeof option.default === 'object' ? option.default[command] : option.default;
}
