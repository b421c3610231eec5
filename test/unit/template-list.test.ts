// The template's `list` step, in-process, against the sandbox CMDB over loopback (its protocol v1 list, described as a
// template): paging by the answer's next or by full pages, the cluster and the token put where the template says,
// items of another cluster or writer skipped, a CMDB that ignores ${after} refused, and the loader's checks.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { CmdbBackend, RecordPage } from '../../src/cmdb/backend.ts';
import { CMDB_OPTIONS, configureCmdb } from '../../src/cmdb/factory.ts';
import { loadTemplate } from '../../src/cmdb/template/load-template.ts';
import { CmdbRejectedError, ConfigError } from '../../src/errors.ts';
import { buildRecord } from '../../src/pod/record.ts';
import { createDeadline } from '../../src/retry/deadline.ts';
import { budgetWithin } from '../../src/retry/time-budget.ts';
import { readSettings } from '../../src/settings/read-settings.ts';
import { startSandboxCmdb, type SandboxCmdb, type StoredRecord } from '../support/sandbox-cmdb.ts';

const scratch = mkdtempSync(join(tmpdir(), 'cmdb-hook-template-list-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const budget = () => budgetWithin(createDeadline(performance.now() + 10_000), 5000);
let files = 0;

const RECORD = { id: 'id', cluster: 'cluster', 'pod.uid': 'pod.uid', container: 'container', namespace: 'namespace', 'pod.name': 'pod.name', 'pod.ips': 'pod.ips', 'pod.ip': 'pod.ip', 'node.name': 'node.name', 'node.ip': 'node.ip', app: 'app', labels: 'labels', annotations: 'annotations', fields: 'fields', state: 'state', observedAt: 'observedAt', 'agent.name': 'agent.name', 'agent.version': 'agent.version' };
const WRITES = { create: { method: 'PUT', path: '/records/${id}', json: '${fields}' }, delete: { method: 'DELETE', path: '/records/${id}' } };

function templateOf(list: Record<string, unknown> | undefined): string {
  const file = join(scratch, `template-${files++}.json`);
  writeFileSync(file, JSON.stringify({ headers: { authorization: 'Bearer ${token}' }, ...WRITES, ...(list ? { list } : {}) }));
  return file;
}

function backendOf(cmdb: SandboxCmdb, template: string): CmdbBackend {
  const tokenFile = join(scratch, 'token');
  writeFileSync(tokenFile, 'list-token\n');
  const read = readSettings(CMDB_OPTIONS, 'register', { 'cmdb-url': cmdb.origin, 'cmdb-kind': 'template', 'template-file': template, 'cmdb-token-file': tokenFile }, {});
  return configureCmdb(read, { command: 'register', deregisterAction: undefined, urlRequired: true }).open();
}

function put(cmdb: SandboxCmdb, cluster: string): StoredRecord {
  const uid = randomUUID();
  const record = buildRecord({ name: `web-${uid.slice(0, 5)}`, uid, namespace: 'shop', ip: '10.1.2.3', ips: ['10.1.2.3'], nodeName: 'node-1', hostIp: '192.0.2.1', labels: { app: 'web' }, annotations: {}, notes: [] }, { cluster, container: 'app', app: undefined, fields: { team: 'a' } }, 'ready');
  const stored: StoredRecord = { ...record };
  cmdb.records.set(stored.id, stored);
  return stored;
}

async function listAll(backend: CmdbBackend, cluster: string): Promise<RecordPage[]> {
  const pages: RecordPage[] = [];
  let next: string | undefined;
  do {
    const page = await backend.list!(cluster, budget(), next);
    pages.push(page);
    next = page.next ?? undefined;
  } while (next !== undefined);
  return pages;
}

const V1 = { method: 'GET', path: '/records?cluster=${cluster}&limit=${limit}&after=${after}', items: 'items', next: 'next', record: RECORD };

test('pages by the answer\'s next: every record of the cluster once, in id order, as cmdb-hook wrote it; the token sent', async (t) => {
  const cmdb = await startSandboxCmdb({ token: 'list-token' });
  t.after(() => cmdb.close());
  const east = Array.from({ length: 5 }, () => put(cmdb, 'east').id).sort();
  put(cmdb, 'west');
  const backend = backendOf(cmdb, templateOf({ ...V1, limit: 2 }));
  const pages = await listAll(backend, 'east');
  assert.deepEqual(pages.map((page) => page.items.map((record) => record.id)), [east.slice(0, 2), east.slice(2, 4), east.slice(4)]);
  assert.deepEqual(pages.map((page) => page.next), [east[1], east[3], null]);
  assert.deepEqual(pages[0]!.items[0], cmdb.records.get(east[0]!), 'every name mapped: the record as stored');
  assert.deepEqual(cmdb.requests.map((request) => [request.method, request.query]), [
    ['GET', '?cluster=east&limit=2&after='],
    ['GET', `?cluster=east&limit=2&after=${east[1]}`],
    ['GET', `?cluster=east&limit=2&after=${east[3]}`],
  ]);
  assert.equal(cmdb.writes().filter((request) => request.method !== 'GET').length, 0, 'listing writes nothing');
});

test('without next: a full page continues after its last id, a shorter one ends; unmapped names get empty values', async (t) => {
  const cmdb = await startSandboxCmdb({ token: 'list-token' });
  t.after(() => cmdb.close());
  const east = Array.from({ length: 4 }, () => put(cmdb, 'east').id).sort();
  const record = { id: 'id', cluster: 'cluster', 'pod.uid': 'pod.uid', container: 'container' };
  const pages = await listAll(backendOf(cmdb, templateOf({ ...V1, next: undefined, limit: 2, record })), 'east');
  assert.deepEqual(pages.map((page) => [page.items.length, page.next]), [[2, east[1]], [2, east[3]], [0, null]]);
  const first = pages[0]!.items[0]!;
  assert.deepEqual([first.namespace, first.labels, first.state, first.agent.name, first.pod.ips], ['', {}, 'ready', 'cmdb-hook', []]);
});

test('items of another cluster or another writer are skipped with the reason, never returned', async (t) => {
  const cmdb = await startSandboxCmdb({ token: 'list-token' });
  t.after(() => cmdb.close());
  const good = put(cmdb, 'east');
  const other = put(cmdb, 'west');
  const stranger = { ...put(cmdb, 'east'), agent: { name: 'someone-else', version: '1' } };
  const renamed = { ...put(cmdb, 'east'), container: 'sidecar' };
  // A CMDB that ignores the cluster filter answers everything: the check on each item keeps the page to ours.
  cmdb.injectFault({ method: 'GET', status: 200, body: JSON.stringify({ items: [other, good, stranger, renamed, 'text'], next: null }) });
  const page = await backendOf(cmdb, templateOf(V1)).list!('east', budget());
  assert.deepEqual(page.items, [good]);
  assert.deepEqual(page.skipped, [
    `item 0 (id "${other.id}"): cluster is "west", not "east"`,
    `item 2 (id "${stranger.id}"): agent.name is "someone-else", not "cmdb-hook"`,
    `item 3 (id "${renamed.id}"): id is not "<pod.uid>_<container>" ("${renamed.pod.uid}_sidecar")`,
    'item 4: not an object',
  ]);
});

test('a page that repeats itself (the CMDB ignored ${after}) or points back is a refusal, so paging ends', async (t) => {
  const cmdb = await startSandboxCmdb({ token: 'list-token' });
  t.after(() => cmdb.close());
  const ids = [put(cmdb, 'east'), put(cmdb, 'east')].map((record) => record.id).sort();
  const backend = backendOf(cmdb, templateOf({ ...V1, path: '/records?cluster=${cluster}&limit=${limit}' }));
  const first = await backend.list!('east', budget());
  assert.deepEqual(first.items.map((record) => record.id), ids);
  await assert.rejects(backend.list!('east', budget(), ids[1]), (error) => {
    assert.ok(error instanceof CmdbRejectedError);
    assert.match(error.message, /answered 200 OK \(list: item id ".*" does not come after ".*": the CMDB ignored \$\{after\}, so paging would not end\)/);
    return true;
  });
  cmdb.injectFault({ method: 'GET', status: 200, body: JSON.stringify({ items: [], next: ids[0] }) });
  await assert.rejects(backend.list!('east', budget(), ids[1]), /list: next ".*" does not come after ".*", so paging would not end/);
  cmdb.injectFault({ method: 'GET', status: 200, body: JSON.stringify({ records: [] }) });
  await assert.rejects(backend.list!('east', budget()), /list: items is missing, not the list of items/);
});

test('a template without list has no list; the loader checks the list step', () => {
  const cmdb = { origin: 'http://127.0.0.1:9' } as SandboxCmdb;
  assert.equal('list' in backendOf(cmdb, templateOf(undefined)), false, 'the controller will say it needs a list step');
  assert.equal('list' in backendOf(cmdb, templateOf(V1)), true, 'with a list step, a list');
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ ...V1, items: undefined }, /\$\.list\.items: must be a dotted path/],
    [{ ...V1, limit: 501 }, /\$\.list\.limit: must be an integer from 1 to 500/],
    [{ ...V1, record: { id: 'id', cluster: 'c', 'pod.uid': 'u' } }, /\$\.list\.record\.container: is required/],
    [{ ...V1, record: { ...RECORD, podname: 'x' } }, /\$\.list\.record\.podname: is not a record name/],
    [{ ...V1, path: '/records?id=${id}' }, /\$\.list\.path: \$\{id\} is not known in list, which lists a cluster/],
    [{ ...V1, gone: [404] }, /\$\.list\.gone: is not a known key here/],
  ];
  for (const [list, message] of cases) assert.throws(() => loadTemplate(templateOf(list)), (error) => error instanceof ConfigError && message.test(error.message), String(message));
  const shared = join(scratch, 'shared-headers.json');
  writeFileSync(shared, JSON.stringify({ headers: { 'x-app': { code: '${fields.app_code}' } }, ...WRITES, list: V1 }));
  assert.throws(() => loadTemplate(shared), /\$\.headers\.x-app\.code: \$\{fields\.app_code\} is not known in list/, 'shared headers go with list too');
  const file = join(scratch, 'after-elsewhere.json');
  writeFileSync(file, JSON.stringify({ ...WRITES, create: { method: 'PUT', path: '/records/${after}' } }));
  assert.throws(() => loadTemplate(file), /\$\.create\.path: \$\{after\} is only known in list/);
});
