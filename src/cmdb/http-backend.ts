import type { Config } from '../config.ts';
import type { CmdbRecord } from '../pod/record.ts';
import type { AttemptContext, CmdbBackend, Operation, WriteResult } from './backend.ts';
import { readToken } from './credentials.ts';
import { answerError, baseUrlOf, createHttpClient, statusLine, type HttpRequest } from './http-client.ts';

/**
 * The generic protocol, version 1: `PUT <cmdb-url>/<id>` with the record (any 2xx), `DELETE <cmdb-url>/<id>`
 * (2xx, 404 and 410 all mean the record is gone). Retiring is a PUT of the record with state `terminated`.
 */
export function createHttpBackend(config: Config): CmdbBackend {
  const token = readToken(config);
  const client = createHttpClient({ authorization: token ? `Bearer ${token}` : undefined, secrets: [token ?? ''], tls: config.tls });
  // Without --cmdb-url (only allowed with --dry-run) the plan shows where the id would go.
  const base = baseUrlOf(config.cmdbUrl);
  const urlOf = (record: CmdbRecord) => `${base}/${encodeURIComponent(record.id)}`;
  const requestOf = (operation: Operation, record: CmdbRecord): HttpRequest =>
    operation === 'remove' ? { method: 'DELETE', url: urlOf(record) } : { method: 'PUT', url: urlOf(record), body: record };

  const send = async (request: HttpRequest, attempt: AttemptContext, gone: readonly number[]): Promise<WriteResult> => {
    const response = await client.send(request, attempt);
    const detail = statusLine(response);
    if (response.status >= 200 && response.status < 300) return { detail };
    if (gone.includes(response.status)) return { detail, alreadyGone: true };
    throw answerError(request, response, client.mask);
  };

  return {
    warmUp: () => client.warmUp(),
    upsert: (record, attempt) => send(requestOf('upsert', record), attempt, []),
    remove: (record, attempt) => send(requestOf('remove', record), attempt, [404, 410]),
    retire: (record, attempt) => send(requestOf('retire', record), attempt, []),
    plan: (operation, record) => client.describe(requestOf(operation, record)),
  };
}
