// The in-memory CMDB backend: the CmdbBackend contract (idempotent upsert, remove of a missing record is success,
// retire keeps the record marked gone, list pages one cluster's records by id) and its transient failures on demand,
// which the retry layer gets through.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryBackend } from '../../src/cmdb/memory/backend.ts';
import { CmdbUnavailableError, HookError } from '../../src/errors.ts';
import { createLogger } from '../../src/logger.ts';
import type { PodIdentity } from '../../src/pod/identity.ts';
import { buildRecord, type CmdbRecord } from '../../src/pod/record.ts';
import { createDeadline } from '../../src/retry/deadline.ts';
import { budgetWithin } from '../../src/retry/time-budget.ts';
import { withRetry } from '../../src/retry/with-retry.ts';

const pod: PodIdentity = {
  name: 'shop-0',
  uid: '0b7e4f0e-8f3c-4d5e-9a6b-1c2d3e4f5a6b',
  namespace: 'shop',
  ip: '10.1.2.3',
  ips: ['10.1.2.3'],
  nodeName: 'node-1',
  hostIp: '192.168.0.7',
  labels: { 'app.kubernetes.io/name': 'shop' },
  annotations: {},
  notes: [],
};
const recordOf = (container = 'app', state: CmdbRecord['state'] = 'ready') => buildRecord(pod, { cluster: 'c', container, app: undefined, fields: { team: 'web' } }, state);
// createDeadline counts from the start of the process; these deadlines are `ms` from now.
const deadlineIn = (ms: number) => createDeadline(performance.now() + ms);
const budget = () => budgetWithin(deadlineIn(5000), 1000);

test('upsert twice leaves one record, the latest, stored as a copy', async () => {
  const cmdb = createMemoryBackend();
  const first = recordOf();
  assert.deepEqual(await cmdb.upsert(first, budget()), { detail: 'created' });
  const second = { ...recordOf(), fields: { team: 'shop' } };
  assert.deepEqual(await cmdb.upsert(second, budget()), { detail: 'replaced' });
  assert.equal(cmdb.records.size, 1);
  assert.deepEqual(cmdb.records.get(first.id), second);
  second.fields.team = 'changed after the write';
  assert.equal(cmdb.records.get(first.id)?.fields.team, 'shop', 'what was written does not change with the caller\'s object');
  await cmdb.upsert(recordOf('sidecar'), budget());
  assert.deepEqual([...cmdb.records.keys()].sort(), [`${pod.uid}_app`, `${pod.uid}_sidecar`], 'one record per container');
});

test('remove: deleted once, then already gone', async () => {
  const cmdb = createMemoryBackend();
  const record = recordOf();
  assert.deepEqual(await cmdb.remove(record, budget()), { detail: 'not found', alreadyGone: true });
  await cmdb.upsert(record, budget());
  await cmdb.upsert(recordOf('sidecar'), budget());
  assert.deepEqual(await cmdb.remove(record, budget()), { detail: 'deleted' });
  assert.deepEqual(await cmdb.remove(record, budget()), { detail: 'not found', alreadyGone: true });
  assert.deepEqual([...cmdb.records.keys()], [`${pod.uid}_sidecar`], 'the other container\'s record stays');
});

test('retire keeps the record with state terminated', async () => {
  const cmdb = createMemoryBackend();
  const record = recordOf();
  await cmdb.upsert(record, budget());
  assert.deepEqual(await cmdb.retire(record, budget()), { detail: 'retired' });
  assert.equal(cmdb.records.size, 1);
  assert.equal(cmdb.records.get(record.id)?.state, 'terminated');
  assert.equal(record.state, 'ready', 'the caller\'s record is left as it was');
  assert.deepEqual({ ...cmdb.records.get(record.id), state: 'ready' }, record, 'everything but the state is kept');
});

test('failNext(n): the next n calls fail transiently and change nothing; the call after succeeds', async () => {
  const cmdb = createMemoryBackend();
  const record = recordOf();
  cmdb.failNext(2);
  for (const operation of ['upsert', 'retire'] as const) {
    await assert.rejects(cmdb[operation](record, budget()), (error) => {
      assert.ok(error instanceof CmdbUnavailableError);
      assert.ok(error instanceof HookError && error.transient);
      assert.equal(error.retryAfterMs, undefined);
      assert.equal(error.message, `memory CMDB: ${operation} ${record.id} failed as asked`);
      return true;
    });
  }
  assert.equal(cmdb.records.size, 0, 'a failed call writes nothing');
  assert.deepEqual(await cmdb.upsert(record, budget()), { detail: 'created' });
  assert.deepEqual(cmdb.calls, [
    { operation: 'upsert', id: record.id },
    { operation: 'retire', id: record.id },
    { operation: 'upsert', id: record.id },
  ]);
  cmdb.failNext(0);
  assert.deepEqual(await cmdb.remove(record, budget()), { detail: 'deleted' }, 'failNext(0) fails nothing');
});

test('withRetry over a failing memory CMDB converges on one record', async () => {
  const cmdb = createMemoryBackend();
  const record = recordOf();
  cmdb.failNext(2);
  const log = createLogger({ level: 'silent', command: 'test' });
  const result = await withRetry((attempt) => cmdb.upsert(record, attempt), { what: `register record ${record.id}`, deadline: deadlineIn(5000), attemptTimeoutMs: 1000, log });
  assert.deepEqual(result, { detail: 'created' });
  assert.equal(cmdb.calls.length, 3, 'two failures, then the write');
  assert.equal(cmdb.records.size, 1);
  assert.deepEqual(cmdb.records.get(record.id), record);

  cmdb.failNext(1);
  assert.deepEqual(await withRetry((attempt) => cmdb.remove(record, attempt), { what: `deregister record ${record.id}`, deadline: deadlineIn(5000), attemptTimeoutMs: 1000, log }), { detail: 'deleted' });
  assert.equal(cmdb.records.size, 0);
  assert.equal(cmdb.calls.length, 5);
});

test('plan and warmUp: what a dry run shows, and nothing to load', async () => {
  const cmdb = createMemoryBackend();
  const record = recordOf();
  assert.deepEqual(cmdb.plan('retire', record), { cmdbKind: 'memory', operation: 'retire', id: record.id });
  await cmdb.warmUp();
  assert.equal(cmdb.calls.length, 0, 'neither is a call');
});

test('list: one cluster\'s records, ordered by id, in pages; after is exclusive and next is null on the last page', async () => {
  const cmdb = createMemoryBackend({ pageSize: 2 });
  const uids = ['c3', 'a1', 'b2', 'e5', 'd4'];
  for (const uid of uids) await cmdb.upsert(buildRecord({ ...pod, uid }, { cluster: 'east', container: 'app', app: undefined, fields: {} }, 'ready'), budget());
  await cmdb.upsert(buildRecord({ ...pod, uid: 'b0' }, { cluster: 'west', container: 'app', app: undefined, fields: {} }, 'ready'), budget());
  const pages: string[][] = [];
  let after: string | undefined;
  do {
    const page = await cmdb.list('east', budget(), after);
    assert.deepEqual(page.skipped, []);
    pages.push(page.items.map((record) => record.id));
    after = page.next ?? undefined;
    if (page.next !== null) assert.equal(page.next, page.items.at(-1)?.id, 'next is the last id of a full page');
  } while (after !== undefined);
  assert.deepEqual(pages, [['a1_app', 'b2_app'], ['c3_app', 'd4_app'], ['e5_app']]);
  assert.deepEqual(cmdb.calls.filter((entry) => entry.operation === 'list'), [
    { operation: 'list', cluster: 'east', after: undefined },
    { operation: 'list', cluster: 'east', after: 'b2_app' },
    { operation: 'list', cluster: 'east', after: 'd4_app' },
  ]);
  assert.deepEqual(await cmdb.list('east', budget(), 'b'), { items: [cmdb.records.get('b2_app'), cmdb.records.get('c3_app')], next: 'c3_app', skipped: [] }, 'after need not be an id');
  assert.deepEqual(await cmdb.list('north', budget()), { items: [], next: null, skipped: [] }, 'a cluster with no records');
  assert.deepEqual((await cmdb.list('west', budget())).items.map((record) => record.id), ['b0_app']);
});

test('list: the page is a copy, and failNext applies to a page like any call', async () => {
  const cmdb = createMemoryBackend();
  const record = recordOf();
  await cmdb.upsert(record, budget());
  cmdb.failNext(1);
  await assert.rejects(cmdb.list('c', budget()), { name: 'CmdbUnavailableError', message: 'memory CMDB: list c failed as asked' });
  const page = await cmdb.list('c', budget());
  assert.deepEqual(page, { items: [record], next: null, skipped: [] }, 'one page of 500 holds it');
  page.items[0]!.fields.team = 'changed by the caller';
  assert.equal(cmdb.records.get(record.id)?.fields.team, 'web', 'what list hands out does not change what is stored');
});
