// The consumer's inventory rules, in-process against the in-memory CMDB: a pass acts only once it holds every chunk;
// the controller's safeguards hold (the orphan grace counted from the first inventory that missed a record,
// --max-retire, never more than half); a record observed after the pass started and an older pass are left alone.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createMemoryBackend, type MemoryBackend } from '../../src/cmdb/memory/backend.ts';
import { createLogger } from '../../src/logger.ts';
import type { PodIdentity } from '../../src/pod/identity.ts';
import { buildRecord, type CmdbRecord } from '../../src/pod/record.ts';
import { createDeadline } from '../../src/retry/deadline.ts';
import { budgetWithin } from '../../src/retry/time-budget.ts';
import { inventoryPass } from '../../src/queue/inventory.ts';
import { InventoryRetirer, passStartedAt } from '../../src/queue/consume/inventory-retirer.ts';

const CLUSTER = 'c1';
const log = createLogger({ level: 'silent', command: 'consume' });
const budget = () => budgetWithin(createDeadline(performance.now() + 5000), 1000);

function recordOf(index: number, observedAt: Date, namespace = 'shop'): CmdbRecord {
  const pod: PodIdentity = { name: `web-${index}`, uid: `0b7e4f0e-8f3c-4d5e-9a6b-${String(index).padStart(12, '0')}`, namespace, ip: '10.1.2.3', ips: ['10.1.2.3'], nodeName: 'node-1', hostIp: '192.168.0.7', labels: {}, annotations: {}, notes: [] };
  return { ...buildRecord(pod, { cluster: CLUSTER, container: 'app', app: 'web', fields: {} }, 'ready'), observedAt: observedAt.toISOString() };
}

async function cmdbWith(records: CmdbRecord[]): Promise<MemoryBackend> {
  const backend = createMemoryBackend();
  for (const record of records) await backend.upsert(record, budget());
  return backend;
}

function retirer(backend: MemoryBackend, options: { orphanGraceMs?: number; maxRetire?: number } = {}): InventoryRetirer {
  return new InventoryRetirer({ cluster: CLUSTER, orphanGraceMs: options.orphanGraceMs ?? 0, maxRetire: options.maxRetire ?? 50, backend: () => backend, attemptTimeoutMs: 1000, signal: new AbortController().signal, log });
}

const hourAgo = () => new Date(Date.now() - 3_600_000);
const chunk = (pass: string, ids: string[], index = 0, total = 1) => ({ cluster: CLUSTER, pass, index, total, ids });

test('a pass acts once it holds every chunk, and retires only what none of them names', async () => {
  const records = [0, 1, 2, 3, 4].map((index) => recordOf(index, hourAgo()));
  const backend = await cmdbWith(records);
  const pass = inventoryPass(new Date(), 'publisher-a');
  const ids = records.map((record) => record.id);
  const take = retirer(backend);
  assert.deepEqual(await take.take(chunk(pass, ids.slice(0, 2), 0, 2)), [], 'half of the chunks: nothing yet');
  const due = await take.take(chunk(pass, ids.slice(2, 4), 1, 2));
  assert.deepEqual(due.map((record) => record.pod.name), ['web-4']);
});

test('more than half missing: nothing retired; --max-retire caps one inventory', async () => {
  const records = [0, 1, 2, 3, 4].map((index) => recordOf(index, hourAgo()));
  const backend = await cmdbWith(records);
  assert.deepEqual(await retirer(backend).take(chunk(inventoryPass(new Date(), 'p'), [records[0]?.id ?? ''])), [], 'four of five missing: a broken publisher, not a scale-down');
  const capped = await retirer(backend, { maxRetire: 1 }).take(chunk(inventoryPass(new Date(), 'p'), records.slice(0, 3).map((record) => record.id)));
  assert.equal(capped.length, 1);
});

test('the grace counts from the first inventory that missed the record', async () => {
  const records = [0, 1, 2].map((index) => recordOf(index, hourAgo()));
  const take = retirer(await cmdbWith(records), { orphanGraceMs: 200 });
  const ids = records.slice(0, 2).map((record) => record.id);
  assert.deepEqual(await take.take(chunk(inventoryPass(new Date(), 'p'), ids)), [], 'first missed: the grace starts');
  await new Promise((resolve) => setTimeout(resolve, 250));
  assert.deepEqual((await take.take(chunk(inventoryPass(new Date(), 'p'), ids))).map((record) => record.pod.name), ['web-2']);
});

test('a record observed after the pass started, and a pass older than one applied, are left alone', async () => {
  const started = new Date(Date.now() - 10_000);
  const records = [recordOf(0, hourAgo()), recordOf(1, hourAgo()), recordOf(2, new Date())];
  const take = retirer(await cmdbWith(records));
  const newer = inventoryPass(started, 'p');
  assert.equal(passStartedAt(newer), started.getTime());
  assert.deepEqual(await take.take(chunk(newer, records.slice(0, 2).map((record) => record.id))), [], 'web-2 registered after the pass began');
  const older = inventoryPass(new Date(started.getTime() - 60_000), 'p');
  assert.deepEqual(await take.take(chunk(older, [records[0]?.id ?? ''])), [], 'a late redelivery of an older inventory');
});

test('an inventory of a publisher with --namespace retires within its namespaces only; each scope keeps its own "older than"', async () => {
  const shop = [0, 1, 2, 3, 4].map((index) => recordOf(index, hourAgo()));
  const ads = [5, 6].map((index) => recordOf(index, hourAgo(), 'ads'));
  const backend = await cmdbWith([...shop, ...ads]);
  const take = retirer(backend);
  const started = new Date();
  const shopPass = { ...chunk(inventoryPass(started, 'publisher-shop'), shop.slice(0, 4).map((record) => record.id)), namespaces: ['shop'] };
  // Read as the whole cluster's, web-4, web-5 and web-6 would be missing (3 of 7, under half): all three retired.
  assert.deepEqual((await take.take(shopPass)).map((record) => record.pod.name), ['web-4'], 'only the shop record its inventory does not name');
  // The publisher of ads passed a moment before the shop one: not older than anything of its own scope, so applied.
  const adsPass = { ...chunk(inventoryPass(new Date(started.getTime() - 1000), 'publisher-ads'), [ads[0]?.id ?? '']), namespaces: ['ads'] };
  assert.deepEqual((await take.take(adsPass)).map((record) => record.pod.name), ['web-6']);
  // And within a scope, an older pass is still a late redelivery.
  const adsOlder = { ...chunk(inventoryPass(new Date(started.getTime() - 5000), 'publisher-ads'), []), namespaces: ['ads'] };
  assert.deepEqual(await take.take(adsOlder), [], 'older than the ads pass applied: ignored');
});

test('an inventory chunk with namespaces that are not a list of names is a poison message', async () => {
  const { inventoryProblem } = await import('../../src/queue/record-shape.ts');
  assert.equal(inventoryProblem({ ...chunk('p', []), namespaces: ['shop'] }), undefined);
  assert.equal(inventoryProblem(chunk('p', [])), undefined, 'absent: every namespace (publishers before namespaces were carried)');
  assert.match(inventoryProblem({ ...chunk('p', []), namespaces: 'shop' }) ?? '', /data\.namespaces must be a list of namespace names/);
  assert.match(inventoryProblem({ ...chunk('p', []), namespaces: [''] }) ?? '', /data\.namespaces/);
});
