// The sandbox CMDB's list endpoint (protocol v1) asked directly over loopback: what it refuses, the order and limit
// of a page, `after` exclusive (an id or not), and that the bare GET <base> still lists every record.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startSandboxCmdb, type SandboxCmdb, type StoredRecord } from '../support/sandbox-cmdb.ts';

function put(cmdb: SandboxCmdb, id: string, cluster: string): void {
  const [uid = '', container = ''] = id.split('_');
  const record: StoredRecord = { id, cluster, container, state: 'ready', pod: { name: 'p', uid, ip: null, ips: [] } };
  cmdb.records.set(id, record);
}

async function get(cmdb: SandboxCmdb, query: string): Promise<[number, unknown]> {
  const response = await fetch(`${cmdb.url}${query}`);
  return [response.status, await response.json()];
}

const ids = (answer: unknown) => (answer as { items: StoredRecord[] }).items.map((record) => record.id);

test('the sandbox list: filter by cluster, order by id, limit, after exclusive, next while more follow', async (t) => {
  const cmdb = await startSandboxCmdb();
  t.after(() => cmdb.close());
  for (const id of ['c_app', 'a_app', 'b_app', 'a_side', 'd_app']) put(cmdb, id, 'east');
  put(cmdb, 'b_other', 'west');

  const [status, first] = await get(cmdb, '?cluster=east&limit=2');
  assert.equal(status, 200);
  assert.deepEqual([ids(first), (first as { next: unknown }).next], [['a_app', 'a_side'], 'a_side']);
  const [, second] = await get(cmdb, '?cluster=east&limit=2&after=a_side');
  assert.deepEqual([ids(second), (second as { next: unknown }).next], [['b_app', 'c_app'], 'c_app']);
  const [, last] = await get(cmdb, '?cluster=east&limit=2&after=c_app');
  assert.deepEqual(last, { items: [cmdb.records.get('d_app')], next: null });
  const [, exact] = await get(cmdb, '?cluster=east&limit=5');
  assert.deepEqual((exact as { next: unknown }).next, null, 'a page that holds the rest exactly ends the list');
  const [, between] = await get(cmdb, '?cluster=east&limit=500&after=b');
  assert.deepEqual(ids(between), ['b_app', 'c_app', 'd_app'], 'after need not be an id');
  assert.deepEqual(await get(cmdb, '?cluster=north&limit=500'), [200, { items: [], next: null }]);
  assert.deepEqual(ids(await get(cmdb, '?cluster=west&limit=1').then(([, answer]) => answer)), ['b_other']);

  const [, all] = await get(cmdb, '');
  assert.equal((all as unknown[]).length, 6, 'GET <base> without a query lists every record');
  assert.deepEqual(cmdb.requests.slice(0, 2).map((request) => [request.method, request.path, request.query]), [
    ['GET', '/records', '?cluster=east&limit=2'],
    ['GET', '/records', '?cluster=east&limit=2&after=a_side'],
  ]);
});

test('the sandbox list refuses a missing cluster and a limit outside 1 to 500', async (t) => {
  const cmdb = await startSandboxCmdb();
  t.after(() => cmdb.close());
  for (const query of ['?limit=10', '?cluster=&limit=10']) assert.deepEqual(await get(cmdb, query), [400, { error: 'cluster is required' }], query);
  for (const query of ['?cluster=east', '?cluster=east&limit=0', '?cluster=east&limit=501', '?cluster=east&limit=2.5', '?cluster=east&limit=ten']) {
    assert.deepEqual(await get(cmdb, query), [400, { error: 'limit must be an integer from 1 to 500' }], query);
  }
});
