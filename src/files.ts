import { readFileSync } from 'node:fs';
import { ConfigError } from './errors.ts';
import { settingName } from './options.ts';

/** Reads a file that a setting names; a failure is a config error naming the setting, never the content. */
export function readSettingFile(flag: string, path: string): string {
  try {
    return readFileSync(path, 'utf8');
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${settingName(flag)} ${path} cannot be read (${reason}); mount the file or fix the path`);
  }
}

/** Reads a file that may legitimately be absent (a fallback source); undefined when it cannot be read. */
export function readOptionalFile(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
