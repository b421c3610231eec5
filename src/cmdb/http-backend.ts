import type { Config } from '../config.ts';
import { readSettingFile } from '../files.ts';
import { ConfigError, CmdbRejectedError, CmdbUnavailableError } from '../errors.ts';
import { settingName } from '../options.ts';
import type { CmdbRecord } from '../pod/record.ts';
import type { AttemptContext, CmdbBackend, WriteResult } from './backend.ts';
import { createHttpClient, excerpt, isTransientStatus, type HttpRequest } from './http-client.ts';

/**
 * The generic protocol, version 1: `PUT <cmdb-url>/<id>` with the record (any 2xx), `DELETE <cmdb-url>/<id>`
 * (2xx, 404 and 410 all mean the record is gone).
 */
export function createHttpBackend(config: Config): CmdbBackend {
  const client = createHttpClient({ token: readToken(config), tls: config.tls });
  // Without --cmdb-url (only allowed with --dry-run) the plan shows where the id would go.
  const base = config.cmdbUrl?.href.replace(/\/+$/, '') ?? '<cmdb-url>';
  const urlOf = (record: CmdbRecord) => `${base}/${encodeURIComponent(record.id)}`;
  const requestOf = (operation: 'upsert' | 'remove', record: CmdbRecord): HttpRequest =>
    operation === 'upsert' ? { method: 'PUT', url: urlOf(record), body: record } : { method: 'DELETE', url: urlOf(record) };

  const send = async (request: HttpRequest, attempt: AttemptContext, gone: readonly number[]): Promise<WriteResult> => {
    const response = await client.send(request, attempt);
    const detail = `${response.status} ${response.statusText}`.trim();
    if (response.status >= 200 && response.status < 300) return { detail };
    if (gone.includes(response.status)) return { detail, alreadyGone: true };
    const message = `${request.method} ${request.url} answered ${detail}${response.body ? `: ${excerpt(response.body)}` : ''}`;
    if (isTransientStatus(response.status)) {
      throw new CmdbUnavailableError(message, { status: response.status, retryAfterMs: response.retryAfterMs });
    }
    throw new CmdbRejectedError(message, { status: response.status });
  };

  return {
    warmUp: () => client.warmUp(),
    upsert: (record, attempt) => send(requestOf('upsert', record), attempt, []),
    remove: (record, attempt) => send(requestOf('remove', record), attempt, [404, 410]),
    plan(operation, record) {
      const { method, url, body } = requestOf(operation, record);
      return { method, url, headers: client.maskedHeaders(body !== undefined), ...(body ? { body } : {}) };
    },
  };
}

/**
 * The token is read fresh by each run, so a rotated Secret takes effect at the next hook, trimmed, checked, and then
 * kept only inside the HTTP client. Visible ASCII only: anything else cannot go into a header, and finding that out
 * at request time would look like a CMDB outage and be retried until the deadline.
 */
function readToken(config: Config): string | undefined {
  if (!config.cmdbTokenFile) return undefined;
  const token = readSettingFile('cmdb-token-file', config.cmdbTokenFile).trim();
  const where = `${settingName('cmdb-token-file')} ${config.cmdbTokenFile}`;
  if (!token) throw new ConfigError(`${where} is empty; put the CMDB token in it`);
  if (!/^[\x21-\x7e]+$/.test(token)) throw new ConfigError(`${where} must hold the token alone: one word of visible ASCII characters`);
  return token;
}
