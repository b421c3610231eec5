import { ConfigError } from '../errors.ts';
import { settingName } from './option.ts';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

/** --log-level, checked. */
export function logLevelOf(level = 'info'): LogLevel {
  if (!LOG_LEVELS.includes(level as LogLevel)) {
    throw new ConfigError(`${settingName('log-level')} ${JSON.stringify(level)} is not a level; use one of: ${LOG_LEVELS.join(', ')}`);
  }
  return level as LogLevel;
}
