import { ConfigError } from '../errors.ts';
import { logLevelOf } from '../settings/log-level.ts';
import type { Argv, SettingReader } from '../settings/read-settings.ts';
import type { RunSettings } from './run-settings.ts';

export interface InstallConfig extends RunSettings {
  dir: string;
}

/** `install <dir>` needs almost nothing: where to copy to, and how long it may take. */
export function buildInstallConfig(argv: Argv, read: SettingReader): InstallConfig {
  const dir = typeof argv.dir === 'string' ? argv.dir.trim() : '';
  if (!dir) throw new ConfigError('install needs the folder to copy into, e.g. cmdb-hook install /cmdb-hook');
  return Object.freeze({ dir, timeoutMs: read.duration('timeout'), strict: true, logLevel: logLevelOf(read.text('log-level')), logFile: undefined });
}
