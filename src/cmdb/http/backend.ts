import type { CmdbRecord } from '../../pod/record.ts';
import type { TimeBudget } from '../../retry/time-budget.ts';
import type { BackendSpec, CmdbBackend, Operation, WriteResult } from '../backend.ts';
import { baseUrlOf, type CmdbConnection } from '../connection.ts';
import { statusLine } from '../http-client/answers.ts';
import { createHttpClient } from '../http-client/client.ts';
import { readToken } from '../http-client/credentials.ts';
import { answerError } from '../http-client/failures.ts';
import type { HttpRequest } from '../http-client/http-types.ts';
import { ANSWER_LIMITS } from '../http-client/read-answer.ts';
import { LIST_PAGE_SIZE, readListPage } from './list-page.ts';

/** --cmdb-kind http: no settings of its own beyond the connection's. */
export const httpBackend: BackendSpec = {
  kind: 'http',
  options: [],
  deregisterAction: 'delete',
  configure: (_read, connection) => () => createHttpBackend(connection),
};

/**
 * The generic protocol, version 1: `PUT <cmdb-url>/<id>` with the record (any 2xx), `DELETE <cmdb-url>/<id>`
 * (2xx, 404 and 410 all mean the record is gone). Retiring is a PUT of the record with state `terminated`. Listing is
 * `GET <cmdb-url>?cluster=<name>&limit=500[&after=<id>]`, answered `{"items": [records], "next": "<id>" | null}`.
 */
function createHttpBackend(connection: CmdbConnection): CmdbBackend {
  const token = readToken(connection.tokenFile);
  const client = createHttpClient({ authorization: token ? `Bearer ${token}` : undefined, secrets: [token ?? ''], tls: connection.tls });
  // Without --cmdb-url (only allowed with --dry-run) the plan shows where the id would go.
  const base = baseUrlOf(connection.url);
  const urlOf = (record: CmdbRecord) => `${base}/${encodeURIComponent(record.id)}`;
  const requestOf = (operation: Operation, record: CmdbRecord): HttpRequest =>
    operation === 'remove' ? { method: 'DELETE', url: urlOf(record) } : { method: 'PUT', url: urlOf(record), body: record };

  const send = async (request: HttpRequest, attempt: TimeBudget, gone: readonly number[]): Promise<WriteResult> => {
    const response = await client.send(request, attempt);
    const detail = statusLine(response);
    if (response.status >= 200 && response.status < 300) return { detail };
    if (gone.includes(response.status)) return { detail, alreadyGone: true };
    throw answerError(request, response, client.mask);
  };

  const pageLimit = { bytes: ANSWER_LIMITS.page, tooLarge: `more than a page of ${LIST_PAGE_SIZE} records should take: check --cmdb-url` };
  const list = async (cluster: string, attempt: TimeBudget, after?: string) => {
    const query = new URLSearchParams({ cluster, limit: String(LIST_PAGE_SIZE), ...(after === undefined ? {} : { after }) });
    const request: HttpRequest = { method: 'GET', url: `${base}?${query.toString()}`, answerLimit: pageLimit };
    const response = await client.send(request, attempt);
    if (response.status < 200 || response.status >= 300) throw answerError(request, response, client.mask);
    return readListPage(response.body, { cluster, after }, (why) => answerError(request, response, client.mask, why));
  };

  return {
    list,
    warmUp: () => client.warmUp(),
    upsert: (record, attempt) => send(requestOf('upsert', record), attempt, []),
    remove: (record, attempt) => send(requestOf('remove', record), attempt, [404, 410]),
    retire: (record, attempt) => send(requestOf('retire', record), attempt, []),
    plan: (operation, record) => client.describe(requestOf(operation, record)),
  };
}
