// --cmdb-kind netbox's list, in-process, against the NetBox stand-in over loopback: the IP addresses the backend
// wrote for a cluster, found by their description and k8s_pod_uid, read slice by slice through NetBox's limit/offset
// paging and given back as records ordered by id; another cluster's, hand-made and foreign ones never returned (also
// when NetBox ignores the filters it does not know); a paginator that repeats itself refused.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import type { CmdbBackend, RecordPage } from '../../src/cmdb/backend.ts';
import { CMDB_OPTIONS, configureCmdb } from '../../src/cmdb/factory.ts';
import { CmdbRejectedError } from '../../src/errors.ts';
import { buildRecord } from '../../src/pod/record.ts';
import { createDeadline } from '../../src/retry/deadline.ts';
import { budgetWithin } from '../../src/retry/time-budget.ts';
import { readSettings } from '../../src/settings/read-settings.ts';
import { startNetboxStandIn, type NetboxStandIn, type NetboxStandInOptions, type StoredIp } from '../support/netbox-stand-in.ts';

const scratch = mkdtempSync(join(tmpdir(), 'cmdb-hook-netbox-list-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const budget = () => budgetWithin(createDeadline(performance.now() + 10_000), 5000);
const TOKEN = 'nbt_listkey.listsecret';
type Listing = CmdbBackend & Required<Pick<CmdbBackend, 'list'>>;

async function netbox(t: TestContext, options: NetboxStandInOptions = {}): Promise<{ nb: NetboxStandIn; backend: Listing }> {
  const nb = await startNetboxStandIn({ v2Tokens: [TOKEN], customFields: ['k8s_pod_uid', 'team'], ...options });
  t.after(() => nb.close());
  const tokenFile = join(scratch, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const argv = { 'cmdb-url': nb.url, 'cmdb-kind': 'netbox', 'cmdb-token-file': tokenFile };
  const backend = configureCmdb(readSettings(CMDB_OPTIONS, 'register', argv, {}), { command: 'register', deregisterAction: undefined, urlRequired: true }).open();
  assert.ok('list' in backend, 'the netbox backend lists');
  return { nb, backend: backend as Listing };
}

let hosts = 0;
/** An IP address as the backend writes it for a pod of `cluster` (container app), put straight into the stand-in. */
function seedOurs(nb: NetboxStandIn, cluster: string, extra: Partial<StoredIp> = {}): StoredIp {
  const uid = randomUUID();
  const n = hosts++;
  return nb.seed({ address: `10.${(n >> 16) & 255}.${(n >> 8) & 255}.${n & 255}/32`, dns_name: 'web-0.shop', description: `k8s ${cluster}/shop/web-${n} container app, app shop`, custom_field_data: { k8s_pod_uid: uid, team: 'a' }, ...extra });
}

async function listAll(backend: Listing, cluster: string): Promise<RecordPage[]> {
  const pages: RecordPage[] = [];
  let next: string | undefined;
  do {
    const page = await backend.list(cluster, budget(), next);
    pages.push(page);
    next = page.next ?? undefined;
  } while (next !== undefined);
  return pages;
}

const uidOf = (ip: StoredIp) => String(ip.custom_field_data.k8s_pod_uid);

test('pages of 500 records in id order, each of the cluster\'s addresses once; NetBox\'s limit/offset followed', async (t) => {
  const { nb, backend } = await netbox(t);
  const ours = Array.from({ length: 2300 }, () => seedOurs(nb, 'east'));
  seedOurs(nb, 'west');
  seedOurs(nb, 'east-2');
  const pages = await listAll(backend, 'east');
  const ids = ours.map((ip) => `${uidOf(ip)}_app`).sort();
  assert.deepEqual(pages.map((page) => page.items.length).filter((length) => length > 0), [500, 500, 500, 500, 300]);
  assert.deepEqual(pages.flatMap((page) => page.items.map((record) => record.id)), ids, 'every record once, in id order');
  assert.deepEqual(pages.flatMap((page) => page.skipped), []);
  const first = pages[0]!.items[0]!;
  const ip = ours.find((one) => `${uidOf(one)}_app` === ids[0])!;
  assert.deepEqual(first, { id: ids[0], cluster: 'east', namespace: 'shop', pod: { name: ip.description.split('/')[2]!.split(' ')[0]!, uid: uidOf(ip), ip: ip.address.split('/')[0], ips: [ip.address.split('/')[0]] }, container: 'app', node: { name: null, ip: null }, app: 'shop', labels: {}, annotations: {}, fields: { team: 'a' }, state: 'ready', observedAt: '2026-01-01T00:00:00Z', agent: { name: 'cmdb-hook', version: '' } });
  const gets = nb.requests.map((request) => request.query);
  assert.ok(gets.every((query) => query.get('description__isw') === 'k8s east/' && query.get('ordering') === 'id' && query.get('limit') === '1000' && query.get('vrf_id') === 'null'));
  assert.deepEqual([...new Set(gets.map((query) => query.get('cf_k8s_pod_uid__isw')))], [...'0123456789abcdef'], 'slice by slice');
  assert.ok(gets.every((query) => query.get('offset') === '0'), 'no slice over NetBox\'s page of 1000 here');
  assert.equal(nb.writes().length, 0, 'listing writes nothing');
});

test('a slice over NetBox\'s 1000 a page is followed by offset; a dual-stack pod is one record with both IPs', async (t) => {
  const { nb, backend } = await netbox(t);
  const uids = Array.from({ length: 1100 }, () => `0${randomUUID().slice(1)}`);
  for (const uid of uids) seedOurs(nb, 'east', { custom_field_data: { k8s_pod_uid: uid } });
  const dual = `0${randomUUID().slice(1)}`;
  seedOurs(nb, 'east', { custom_field_data: { k8s_pod_uid: dual }, address: '10.200.0.1/32' });
  seedOurs(nb, 'east', { custom_field_data: { k8s_pod_uid: dual }, address: 'fd00::1/128' });
  const pages = await listAll(backend, 'east');
  const records = pages.flatMap((page) => page.items);
  assert.equal(records.length, 1101);
  assert.deepEqual(records.find((record) => record.pod.uid === dual)?.pod.ips, ['10.200.0.1', 'fd00::1']);
  const offsets = nb.requests.filter((request) => request.query.get('cf_k8s_pod_uid__isw') === '0').map((request) => request.query.get('offset'));
  assert.ok(offsets.includes('1000'), `the second NetBox page of slice 0 was asked for: ${offsets.join(',')}`);
});

test('another cluster\'s, hand-made and foreign addresses are never returned, even when NetBox ignores the filters', async (t) => {
  for (const options of [{}, { noCustomFieldLookups: true }]) {
    const { nb, backend } = await netbox(t, options);
    const mine = seedOurs(nb, 'east');
    const strangers = [
      seedOurs(nb, 'west'),
      seedOurs(nb, 'east', { custom_field_data: { k8s_pod_uid: null } }),
      seedOurs(nb, 'east', { description: 'reserved for the east gateway' }),
      seedOurs(nb, 'east', { vrf: 'pods' }),
      seedOurs(nb, 'east', { custom_field_data: { k8s_pod_uid: 'NOT-A-UID' } }),
    ];
    const pages = await listAll(backend, 'east');
    assert.deepEqual(pages.flatMap((page) => page.items.map((record) => record.pod.uid)), [uidOf(mine)], JSON.stringify(options));
    const skipped = pages.flatMap((page) => page.skipped);
    for (const ip of strangers) assert.ok(!pages.some((page) => page.items.some((record) => record.pod.ip === ip.address.split('/')[0])));
    // What the filters let through is checked and skipped with the reason; with NetBox applying them, nothing is.
    if ('noCustomFieldLookups' in options) assert.ok(skipped.some((line) => line.includes('is not a Kubernetes UID')), skipped.join('\n'));
  }
});

test('NetBox ignoring the description filter too: each address checked, skipped with the reason', async (t) => {
  const { nb, backend } = await netbox(t);
  const mine = seedOurs(nb, 'east');
  const other = seedOurs(nb, 'west', { custom_field_data: { k8s_pod_uid: `${uidOf(mine)[0]}${randomUUID().slice(1)}` } });
  const hand = seedOurs(nb, 'east', { custom_field_data: { k8s_pod_uid: null } });
  const slice = uidOf(mine)[0]!;
  // The answer of a NetBox that ignored every filter: all three addresses, for the slice of ours.
  const serialized = await (await fetch(`${nb.url}/api/ipam/ip-addresses/?limit=1000`, { headers: { authorization: `Bearer ${TOKEN}` } })).json();
  nb.requests.length = 0;
  for (const char of '0123456789abcdef') if (char === slice) nb.injectFault({ status: 200, body: serialized }); else nb.injectFault({ status: 200, body: { count: 0, next: null, previous: null, results: [] } });
  const page = await backend.list('east', budget());
  assert.deepEqual(page.items.map((record) => record.pod.uid), [uidOf(mine)]);
  assert.deepEqual(page.skipped, [
    `IP address ${other.address} (id ${other.id}): its description names cluster "west", not "east"`,
    `IP address ${hand.address} (id ${hand.id}): no k8s_pod_uid: made by hand or by another tool`,
  ]);
});

test('a paginator that answers the same page for every offset is a refusal, so paging ends', async (t) => {
  const { nb, backend } = await netbox(t, { offsetIgnored: true });
  for (let index = 0; index < 1001; index++) seedOurs(nb, 'east', { custom_field_data: { k8s_pod_uid: `a${randomUUID().slice(1)}` } });
  await assert.rejects(listAll(backend, 'east'), (error) => {
    assert.ok(error instanceof CmdbRejectedError);
    assert.match(error.message, /answered only IP addresses of the pages before \(offset 1000 of 1001\), so paging would not end/);
    return true;
  });
});

test('a record written by register is listed; deprecated by retire, it is listed terminated', async (t) => {
  const { backend } = await netbox(t);
  const uid = randomUUID();
  const record = buildRecord({ name: 'web-1', uid, namespace: 'shop', ip: '10.9.9.9', ips: ['10.9.9.9'], nodeName: 'n', hostIp: '192.0.2.1', labels: {}, annotations: {}, notes: [] }, { cluster: 'east', container: 'app', app: 'shop', fields: { team: 'b' } }, 'ready');
  await backend.upsert(record, budget());
  const [listed] = (await listAll(backend, 'east')).flatMap((page) => page.items);
  assert.deepEqual(listed && [listed.id, listed.namespace, listed.pod.name, listed.pod.ips, listed.container, listed.app, listed.fields, listed.state], [record.id, 'shop', 'web-1', ['10.9.9.9'], 'app', 'shop', { team: 'b' }, 'ready']);
  await backend.retire(record, budget());
  assert.deepEqual((await listAll(backend, 'east')).flatMap((page) => page.items.map((item) => item.state)), ['terminated']);
});
