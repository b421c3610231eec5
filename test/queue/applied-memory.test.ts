// The consumer's memory of what it applied: read back from the CMDB on each new session, never on an older one, and
// read again after a failed read-back. Against the in-memory backend.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryBackend } from '../../src/cmdb/memory/backend.ts';
import type { CmdbRecord } from '../../src/pod/record.ts';
import { AppliedMemory, appliedOf, stampedVersion } from '../../src/queue/consume/applied-memory.ts';
import { captureLog } from '../support/capture-log.ts';

const budget = { signal: new AbortController().signal, timeoutMs: 1000, endsAt: performance.now() + 60_000 };

function recordOf(n: number, resourceVersion?: string, state: CmdbRecord['state'] = 'ready'): CmdbRecord {
  const uid = `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
  return {
    id: `${uid}_app`,
    cluster: 'test',
    namespace: 'shop',
    pod: { name: `web-${n}`, uid, ip: '10.0.0.1', ips: ['10.0.0.1'], ...(resourceVersion ? { resourceVersion } : {}) },
    container: 'app',
    node: { name: 'node-1', ip: '192.0.2.1' },
    app: 'web',
    labels: {},
    annotations: {},
    fields: {},
    state,
    observedAt: new Date().toISOString(),
    agent: { name: 'cmdb-hook', version: 'test' },
  };
}

test('a new session reads back what the CMDB holds; the same or an older session does not read again', async () => {
  const cmdb = createMemoryBackend();
  await cmdb.upsert(recordOf(1, '30'), budget);
  await cmdb.retire(recordOf(2), budget);
  await cmdb.upsert(recordOf(3), budget); // written by a hook: no pod version
  const logged = captureLog('info');
  const memory = new AppliedMemory({ cluster: 'test', backend: () => cmdb, attemptTimeoutMs: 1000, signal: new AbortController().signal, log: logged.log });
  const lists = () => cmdb.calls.filter((call) => call.operation === 'list').length;

  await memory.ready(1);
  assert.deepEqual(memory.get(recordOf(1).id), appliedOf(recordOf(1, '30'), 30n));
  assert.deepEqual(memory.get(recordOf(2).id), { state: 'gone', version: undefined });
  assert.equal(memory.get(recordOf(3).id)?.version, undefined);
  assert.equal(lists(), 1);

  // Another consumer holds the queue meanwhile and moves record 1 on; this one's session 1 does not know.
  await cmdb.upsert(recordOf(1, '50'), budget);
  await memory.ready(1);
  assert.equal(memory.get(recordOf(1).id)?.version, 30n);
  // Holding the queue again (a new channel): read back, and what this process set before is dropped.
  memory.set(recordOf(9).id, { state: 'gone', version: undefined });
  await memory.ready(2);
  assert.equal(memory.get(recordOf(1).id)?.version, 50n);
  assert.equal(memory.get(recordOf(9).id), undefined);
  assert.equal(lists(), 2);
  // A delivery of the earlier session still being handled does not read again.
  await memory.ready(1);
  await memory.ready(undefined);
  assert.equal(lists(), 2);
  assert.equal(logged.lines.filter((line) => /read what was applied to 3 records back from the CMDB/.test(String(line.msg))).length, 2);
});

test('a read-back that fails is tried again by the next delivery', async () => {
  const cmdb = createMemoryBackend();
  await cmdb.upsert(recordOf(1, '7'), budget);
  const memory = new AppliedMemory({ cluster: 'test', backend: () => cmdb, attemptTimeoutMs: 200, readBackMs: 1000, signal: new AbortController().signal, log: captureLog('silent').log });
  cmdb.failNext(1000);
  await assert.rejects(memory.ready(1));
  cmdb.failNext(0);
  await memory.ready(1);
  assert.equal(memory.get(recordOf(1).id)?.version, 7n);
});

test('only a pod version of digits counts', () => {
  assert.equal(stampedVersion(recordOf(1, '12345678901234567890')), 12345678901234567890n);
  for (const odd of ['', '0', '-1', '1e3', 'abc', ' 7']) assert.equal(stampedVersion(recordOf(1, odd)), undefined, odd);
  assert.equal(stampedVersion(recordOf(1)), undefined);
});
