// The records known between passes, and the listings that replace them: what the writer lands while a listing runs
// is laid over that listing (a page read before a write landed would show the record missing or old), for every
// listing under way; and a listing that started earlier but ends later does not replace a newer one.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { KnownStore } from '../../src/cluster/known-store.ts';
import type { CmdbRecord } from '../../src/pod/record.ts';
import { apiPod } from '../support/api-pods.ts';
import { CLUSTER, written } from './plan-pass.ts';

const records = [1, 2, 3].map((index) => written(apiPod({ name: `web-${index}`, uid: `00000000-0000-4000-8000-00000000000${index}`, ip: `10.244.1.${index}` })));
const [one, two, three] = records as [CmdbRecord, CmdbRecord, CmdbRecord];
const store = () => new KnownStore({ cluster: CLUSTER, sharedUid: () => undefined });

/** A listing that answers `records` when told to, as a CMDB's pages read before the writes below landed. */
function heldListing(answer: CmdbRecord[]) {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  return { list: async () => (await released, answer), release };
}

test('writes that land during a listing are laid over it: a create, an update, a removal and a retirement', async () => {
  const known = store();
  const listing = heldListing([one, two, three]);
  const running = known.relist(listing.list);
  const created = written(apiPod({ name: 'web-4', uid: '00000000-0000-4000-8000-000000000004', ip: '10.244.1.4' }));
  const updated = { ...one, labels: { app: 'web', tier: 'new' } };
  known.written({ kind: 'create', record: created }, false);
  known.written({ kind: 'update', record: updated }, false);
  known.written({ kind: 'retire', record: two }, true);
  known.written({ kind: 'retire', record: three }, false);
  listing.release();
  const shown = new Map((await running).map((record) => [record.id, record]));
  assert.deepEqual([...shown.keys()].sort(), [one.id, three.id, created.id].sort(), 'the removed one is gone, the created one there');
  assert.deepEqual(shown.get(one.id)?.labels, { app: 'web', tier: 'new' });
  assert.equal(shown.get(three.id)?.state, 'terminated');
  assert.ok(known.isLive(created.id) && known.isLive(one.id));
  assert.ok(!known.isLive(two.id) && !known.isLive(three.id));
  assert.equal(known.liveCount(), 2);

  // A write after the listing ended belongs to no listing: the next one shows it as the CMDB does.
  known.written({ kind: 'retire', record: one }, true);
  assert.deepEqual((await known.relist(() => Promise.resolve([one]))).map((record) => record.id), [one.id]);
});

test('two listings under way both get the writes; the older one ending last does not replace the newer', async () => {
  const known = store();
  const older = heldListing([one, two, three]);
  const newer = heldListing([one, three]);
  const first = known.relist(older.list);
  const second = known.relist(newer.list);
  known.written({ kind: 'create', record: two }, false);
  newer.release();
  assert.ok((await second).some((record) => record.id === two.id), 'the newer listing shows the write');
  known.written({ kind: 'retire', record: three }, true);
  older.release();
  assert.ok(!(await first).some((record) => record.id === three.id), 'the older listing shows the removal too');
  assert.ok(known.isLive(two.id), 'known as the newer listing, moved on by the writes');
  assert.ok(!known.isLive(three.id), 'the removal stays known, not undone by the older listing');
});
