// Protocol v1's list through the http backend, in-process, against the sandbox CMDB over loopback: paging by id, the
// cluster filter, an empty CMDB, answers of the wrong shape, items that are not cmdb-hook's records, a page larger
// than one record's answer limit, and transient failures that the retry layer gets through.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { CmdbBackend, RecordPage } from '../../src/cmdb/backend.ts';
import { CMDB_OPTIONS, configureCmdb } from '../../src/cmdb/factory.ts';
import { CmdbRejectedError, CmdbUnavailableError } from '../../src/errors.ts';
import { createLogger } from '../../src/logger.ts';
import { buildRecord } from '../../src/pod/record.ts';
import { createDeadline } from '../../src/retry/deadline.ts';
import { budgetWithin } from '../../src/retry/time-budget.ts';
import { withRetry } from '../../src/retry/with-retry.ts';
import { readSettings } from '../../src/settings/read-settings.ts';
import { startSandboxCmdb, type SandboxCmdb, type StoredRecord } from '../support/sandbox-cmdb.ts';

const scratch = mkdtempSync(join(tmpdir(), 'cmdb-hook-list-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const budget = () => budgetWithin(createDeadline(performance.now() + 10_000), 5000);

/** The http backend as a run opens it: from its settings, through the factory. */
function httpBackendOf(cmdb: SandboxCmdb, argv: Record<string, string> = {}): Required<Pick<CmdbBackend, 'list'>> {
  const read = readSettings(CMDB_OPTIONS, 'register', { 'cmdb-url': cmdb.url, ...argv }, {});
  const backend = configureCmdb(read, { command: 'register', deregisterAction: undefined, urlRequired: true }).open();
  const list = backend.list?.bind(backend);
  assert.ok(list, 'the http backend lists');
  return { list };
}

/** A record of `cluster` as cmdb-hook writes it, stored straight into the sandbox. */
function put(cmdb: SandboxCmdb, cluster: string, annotations: Record<string, string> = {}): StoredRecord {
  const uid = randomUUID();
  const record = buildRecord({ name: `web-${uid.slice(0, 5)}`, uid, namespace: 'shop', ip: '10.1.2.3', ips: ['10.1.2.3'], nodeName: 'node-1', hostIp: '192.0.2.1', labels: { app: 'web' }, annotations, notes: [] }, { cluster, container: 'app', app: undefined, fields: {} }, 'ready');
  const stored: StoredRecord = { ...record };
  cmdb.records.set(stored.id, stored);
  return stored;
}

async function listAll(backend: Required<Pick<CmdbBackend, 'list'>>, cluster: string): Promise<RecordPage[]> {
  const pages: RecordPage[] = [];
  let next: string | undefined;
  do {
    const page = await backend.list(cluster, budget(), next);
    pages.push(page);
    next = page.next ?? undefined;
  } while (next !== undefined);
  return pages;
}

test('pages of 500 ordered by id, after exclusive, next null on the last; only the asked cluster; the token sent', async (t) => {
  const cmdb = await startSandboxCmdb({ token: 'list-token' });
  t.after(() => cmdb.close());
  const tokenFile = join(scratch, 'token');
  writeFileSync(tokenFile, 'list-token\n');
  const east = Array.from({ length: 1201 }, () => put(cmdb, 'east').id).sort();
  const west = Array.from({ length: 3 }, () => put(cmdb, 'west').id).sort();
  const backend = httpBackendOf(cmdb, { 'cmdb-token-file': tokenFile });

  const pages = await listAll(backend, 'east');
  assert.deepEqual(pages.map((page) => page.items.length), [500, 500, 201]);
  assert.deepEqual(pages.flatMap((page) => page.items.map((record) => record.id)), east, 'every record once, in id order');
  assert.deepEqual(pages.map((page) => page.next), [east[499], east[999], null]);
  assert.deepEqual(pages.flatMap((page) => page.skipped), []);
  assert.deepEqual(pages[0]!.items[0], cmdb.records.get(east[0]!), 'the record as stored');
  const gets = cmdb.requests.filter((request) => request.method === 'GET');
  assert.deepEqual(gets.map((request) => [request.path, request.query, request.status, request.authorization]), [
    ['/records', '?cluster=east&limit=500', 200, 'Bearer list-token'],
    ['/records', `?cluster=east&limit=500&after=${east[499]}`, 200, 'Bearer list-token'],
    ['/records', `?cluster=east&limit=500&after=${east[999]}`, 200, 'Bearer list-token'],
  ]);

  assert.deepEqual(await listAll(backend, 'west'), [{ items: west.map((id) => cmdb.records.get(id)), next: null, skipped: [] }]);
  assert.deepEqual(await listAll(backend, 'north'), [{ items: [], next: null, skipped: [] }], 'a cluster with no records');
  assert.equal(cmdb.writes().length, 0, 'listing writes nothing');
});

test('an empty CMDB: one request, no items, next null', async (t) => {
  const cmdb = await startSandboxCmdb();
  t.after(() => cmdb.close());
  assert.deepEqual(await httpBackendOf(cmdb).list('east', budget()), { items: [], next: null, skipped: [] });
  assert.equal(cmdb.requests.length, 1);
});

test('an answer of the wrong shape is a refusal naming the URL and what protocol v1 answers', async (t) => {
  const cmdb = await startSandboxCmdb();
  t.after(() => cmdb.close());
  const backend = httpBackendOf(cmdb);
  const url = `GET ${cmdb.url}?cluster=east&limit=500`;
  const cases: [string, string | undefined, RegExp][] = [
    ['[]', undefined, /answered 200 OK \(not a list page: protocol v1 answers \{"items": \[records\], "next": "<id>" or null\}\): \[\]$/],
    ['<html>oops</html>', undefined, /\(not a list page: .*\): <html>oops<\/html>$/],
    ['{"items": []}', undefined, /\(not a list page: /],
    ['{"items": {}, "next": null}', undefined, /\(not a list page: /],
    ['{"items": [], "next": 7}', undefined, /\("next" must be a record id or null, not number\)/],
    ['{"items": [], "next": ""}', undefined, /\("next" must be a record id or null, not ""\)/],
    ['{"items": [], "next": "m_app"}', 'm_app', /\("next" "m_app" does not come after "m_app", so paging would not end\)/],
    ['{"items": [], "next": "a_app"}', 'm_app', /\("next" "a_app" does not come after "m_app", so paging would not end\)/],
    [JSON.stringify({ items: Array.from({ length: 501 }, () => ({})), next: null }), undefined, /\(501 items, more than the 500 asked for\)/],
  ];
  for (const [body, after, message] of cases) {
    cmdb.injectFault({ method: 'GET', status: 200, body });
    await assert.rejects(backend.list('east', budget(), after), (error) => {
      assert.ok(error instanceof CmdbRejectedError, body);
      assert.ok(error.message.startsWith(`${url}${after ? `&after=${after}` : ''} answered 200 OK (`), error.message);
      assert.match(error.message, message);
      return true;
    });
  }
});

test('items that are not cmdb-hook records of the asked cluster are skipped with the reason, the rest kept', async (t) => {
  const cmdb = await startSandboxCmdb();
  t.after(() => cmdb.close());
  const good = put(cmdb, 'east');
  const stranger = { ...put(cmdb, 'east'), agent: { name: 'someone-else', version: '1' } };
  const renamed = { ...put(cmdb, 'east'), container: 'sidecar' };
  const noUid = { ...put(cmdb, 'east'), pod: { name: 'p', ip: null, ips: [] } };
  const other = put(cmdb, 'west');
  const items = [good, stranger, renamed, noUid, other, 'text', { id: '' }];
  cmdb.injectFault({ method: 'GET', status: 200, body: JSON.stringify({ items, next: null }) });
  const page = await httpBackendOf(cmdb).list('east', budget());
  assert.deepEqual(page.items, [good]);
  assert.equal(page.next, null);
  assert.deepEqual(page.skipped, [
    `item 1 (id "${stranger.id}"): "agent" is not {"name": "cmdb-hook", "version": "<version>"}`,
    `item 2 (id "${renamed.id}"): "id" is not "<pod.uid>_<container>" ("${renamed.pod.uid}_sidecar")`,
    `item 3 (id "${noUid.id}"): "pod.uid" is not a non-empty string`,
    `item 4 (id "${other.id}"): "cluster" is "west", not "east"`,
    'item 5: not an object',
    'item 6 (id ""): "id" is not a non-empty string',
  ]);
});

test('a page over 1 MiB, one record\'s limit, is read whole; one over 16 MiB is refused unread', async (t) => {
  const cmdb = await startSandboxCmdb();
  t.after(() => cmdb.close());
  // 500 records with 3 KiB of annotations each: a page of about 1.8 MB.
  const big = { 'example.com/network-status': 'x'.repeat(3 * 1024) };
  for (let index = 0; index < 500; index++) put(cmdb, 'east', big);
  const backend = httpBackendOf(cmdb);
  const page = await backend.list('east', budget());
  assert.equal(page.items.length, 500);
  assert.equal(page.next, null);
  assert.ok(JSON.stringify({ items: page.items, next: null }).length > 1024 * 1024, 'the page is over 1 MiB');

  cmdb.injectFault({ method: 'GET', status: 200, body: JSON.stringify({ items: [], next: null, padding: 'x'.repeat(16 * 1024 * 1024) }) });
  await assert.rejects(backend.list('east', budget()), (error) => {
    assert.ok(error instanceof CmdbRejectedError);
    assert.equal(error.message, `GET ${cmdb.url}?cluster=east&limit=500 answered 200 OK with a body over 16 MiB; more than a page of 500 records should take: check --cmdb-url`);
    return true;
  });
});

test('a 503 is transient; the retry layer retries the page', async (t) => {
  const cmdb = await startSandboxCmdb();
  t.after(() => cmdb.close());
  const record = put(cmdb, 'east');
  const backend = httpBackendOf(cmdb);
  cmdb.injectFault({ method: 'GET', status: 503, retryAfter: '0' });
  await assert.rejects(backend.list('east', budget()), (error) => {
    assert.ok(error instanceof CmdbUnavailableError);
    assert.equal(error.transient, true);
    assert.equal(error.status, 503);
    assert.match(error.message, new RegExp(`^GET ${cmdb.url}\\?cluster=east&limit=500 answered 503 Service Unavailable: `));
    return true;
  });

  cmdb.injectFault({ method: 'GET', status: 503, times: 2 });
  const log = createLogger({ level: 'silent', command: 'test' });
  const page = await withRetry((attempt) => backend.list('east', attempt), { what: 'list east', deadline: createDeadline(performance.now() + 10_000), attemptTimeoutMs: 5000, log });
  assert.deepEqual(page, { items: [record], next: null, skipped: [] });
  assert.deepEqual(cmdb.requests.map((request) => request.status), [503, 503, 503, 200], 'one failure, then two, then the page');
});
