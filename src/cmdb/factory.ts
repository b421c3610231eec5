import { ConfigError } from '../errors.ts';
import { settingName, type OptionSpec } from '../settings/option.ts';
import type { SettingReader } from '../settings/read-settings.ts';
import type { BackendSpec, BackendUse, CmdbBackend } from './backend.ts';
import { CONNECTION_OPTIONS, readConnection, type CmdbConnection } from './connection.ts';
import { httpBackend } from './http/backend.ts';
import { netboxBackend } from './netbox/backend.ts';
import { servicenowBackend } from './servicenow/backend.ts';
import { templateBackend } from './template/backend.ts';

/** Every `--cmdb-kind`, by name. A new backend is one folder and one line here (and its README section). */
const BACKENDS: readonly BackendSpec[] = [httpBackend, templateBackend, netboxBackend, servicenowBackend];

export const BACKEND_KINDS: readonly string[] = BACKENDS.map((backend) => backend.kind);

/** Every CMDB option: the kind, the connection's, and each backend's own. */
export const CMDB_OPTIONS: readonly OptionSpec[] = [
  { flag: 'cmdb-kind', type: 'string', commands: ['register', 'deregister', 'sidecar', 'controller', 'consume'], default: 'http', describe: 'CMDB backend: http (generic protocol v1), template, netbox or servicenow.' },
  ...CONNECTION_OPTIONS,
  ...BACKENDS.flatMap((backend) => backend.options),
];

/** The CMDB side of a run, configured and checked: which kind, where, and how to open it once the pod is known. */
export interface CmdbSetup {
  kind: string;
  connection: CmdbConnection;
  /** What deregister does when --deregister-action is not given. */
  deregisterAction: 'delete' | 'retire';
  open(): CmdbBackend;
}

/** What the run will do: register, or deregister with the --deregister-action given (if any); with a CMDB URL or not. */
export interface CmdbRun {
  command: 'register' | 'deregister' | 'sidecar' | 'controller' | 'consume';
  deregisterAction: string | undefined;
  urlRequired: boolean;
}

/**
 * Reads --cmdb-kind and the settings of the CMDB, checks them (a setting of another kind is a mistake worth saying
 * out loud), and returns how to open the backend.
 */
export function configureCmdb(read: SettingReader, run: CmdbRun): CmdbSetup {
  const kind = read.text('cmdb-kind') ?? 'http';
  const spec = BACKENDS.find((backend) => backend.kind === kind);
  if (!spec) throw new ConfigError(`${settingName('cmdb-kind')} ${JSON.stringify(kind)} is not known; use one of: ${BACKEND_KINDS.join(', ')}`);
  const connection = readConnection(read, run);
  for (const other of BACKENDS.filter((backend) => backend !== spec)) {
    const given = other.options.find((option) => read.given(option.flag));
    if (given) throw new ConfigError(`${settingName(given.flag)} is only used with --cmdb-kind ${other.kind}, and --cmdb-kind is ${kind}; remove it or change the kind`);
  }
  const action = run.deregisterAction ?? spec.deregisterAction;
  const retire = action === 'retire' ? 'retire' : 'remove';
  const use: BackendUse = { operations: run.command === 'register' ? ['upsert'] : run.command === 'deregister' ? [retire] : ['upsert', retire] };
  const open = spec.configure(read, connection, use);
  return { kind, connection, deregisterAction: spec.deregisterAction, open };
}
