import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { ConfigError } from './errors.ts';
import { settingName } from './options.ts';

/** Reads a file that a setting names; a failure is a config error naming the setting, never the content. */
export function readSettingFile(flag: string, path: string): string {
  try {
    return readRegularFile(path);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${settingName(flag)} ${path} cannot be read (${reason}); mount the file or fix the path`);
  }
}

/** Reads a file that may legitimately be absent (a fallback source); undefined when it cannot be read. */
export function readOptionalFile(path: string): string | undefined {
  try {
    return readRegularFile(path);
  } catch {
    return undefined;
  }
}

/**
 * Reads a regular file (a Secret or ConfigMap key is one, through symlinks). A FIFO, socket or device is refused:
 * reading a FIFO that nobody writes would block the whole process, its deadline and watchdog included.
 */
function readRegularFile(path: string): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    if (!fstatSync(fd).isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'not a regular file' });
    return readFileSync(fd, 'utf8');
  } finally {
    closeSync(fd);
  }
}
