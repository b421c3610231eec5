import { ConfigError } from '../../errors.ts';
import { settingName, type OptionSpec } from '../../settings/option.ts';
import type { SettingReader } from '../../settings/read-settings.ts';

// The hooks and the controller write the same records through the same backends.
const HOOKS = ['register', 'deregister', 'sidecar', 'controller', 'consume'];

export const SERVICENOW_OPTIONS: readonly OptionSpec[] = [
  { flag: 'servicenow-data-source', type: 'string', commands: HOOKS, describe: 'servicenow: the discovery source (sysparm_data_source) of Identification and Reconciliation.' },
  { flag: 'cmdb-user', type: 'string', commands: HOOKS, describe: 'servicenow: user for HTTP basic auth (with --cmdb-password-file), instead of a token.' },
  { flag: 'cmdb-password-file', type: 'string', commands: HOOKS, describe: 'servicenow: file holding the password of --cmdb-user (re-read every run).' },
];

export interface ServicenowSettings {
  dataSource: string;
  /** Basic auth, as an alternative to the token. */
  user: string | undefined;
  passwordFile: string | undefined;
}

/** The data source is required; basic auth takes a user and a password file together, and never with a token. */
export function readServicenowSettings(read: SettingReader): ServicenowSettings {
  const dataSource = read.text('servicenow-data-source')?.trim();
  if (!dataSource) {
    throw new ConfigError(`${settingName('servicenow-data-source')} is required with --cmdb-kind servicenow: the discovery source name registered for Identification and Reconciliation`);
  }
  const user = read.text('cmdb-user');
  const passwordFile = read.text('cmdb-password-file');
  if (Boolean(user) !== Boolean(passwordFile)) {
    throw new ConfigError(`${settingName('cmdb-user')} and ${settingName('cmdb-password-file')} go together for basic auth; set both, or use --cmdb-token-file`);
  }
  if (user && read.text('cmdb-token-file')) {
    throw new ConfigError(`${settingName('cmdb-user')} and ${settingName('cmdb-token-file')} exclude each other; use basic auth or a bearer token, not both`);
  }
  return { dataSource, user: user?.trim() || undefined, passwordFile };
}
