import { ConfigError } from '../../errors.ts';
import { settingName } from '../../settings/option.ts';
import { FILE_KINDS, readSettingFile } from '../../settings/setting-files.ts';

/**
 * The token of --cmdb-token-file, read fresh by each run (a rotated Secret takes effect at the next hook), trimmed
 * and checked. Visible ASCII only: anything else cannot go into a header, and finding that out at request time would
 * look like a CMDB outage and be retried until the deadline.
 */
export function readToken(tokenFile: string | undefined): string | undefined {
  return tokenFile ? readSecretFile('cmdb-token-file', tokenFile, 'the CMDB token') : undefined;
}

/** The password of --cmdb-password-file, same rules as the token (one word of visible ASCII). */
export function readPassword(passwordFile: string | undefined): string | undefined {
  return passwordFile ? readSecretFile('cmdb-password-file', passwordFile, 'the password of --cmdb-user') : undefined;
}

function readSecretFile(flag: string, path: string, what: string): string {
  const secret = readSettingFile(flag, path, FILE_KINDS.secret).trim();
  const where = `${settingName(flag)} ${path}`;
  if (!secret) throw new ConfigError(`${where} is empty; put ${what} in it`);
  if (!/^[\x21-\x7e]+$/.test(secret)) throw new ConfigError(`${where} must hold ${what} alone: one word of visible ASCII characters`);
  if (secret.length < 4) throw new ConfigError(`${where} holds ${secret.length} characters; ${what} cannot be that short`);
  return secret;
}
