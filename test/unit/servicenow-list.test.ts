// --cmdb-kind servicenow's list, in-process, against the ServiceNow stand-in over loopback: the Table API query on
// the markers the backend writes (cluster, discovery_source, k8s_uid), the k8s_uid cursor across pages, CIs of other
// clusters, other sources or none skipped even when ServiceNow drops the query's parts, and answers that would page
// forever or out of order refused.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import type { CmdbBackend, RecordPage } from '../../src/cmdb/backend.ts';
import { CMDB_OPTIONS, configureCmdb } from '../../src/cmdb/factory.ts';
import { CmdbRejectedError, CmdbUnavailableError } from '../../src/errors.ts';
import { buildRecord } from '../../src/pod/record.ts';
import { createDeadline } from '../../src/retry/deadline.ts';
import { budgetWithin } from '../../src/retry/time-budget.ts';
import { readSettings } from '../../src/settings/read-settings.ts';
import { startServicenowStandIn, type ServicenowOptions, type ServicenowStandIn } from '../support/servicenow-stand-in.ts';

const scratch = mkdtempSync(join(tmpdir(), 'cmdb-hook-servicenow-list-'));
after(() => rmSync(scratch, { recursive: true, force: true }));
const budget = () => budgetWithin(createDeadline(performance.now() + 10_000), 5000);
const TOKEN = 'sn-list-token';

async function standIn(t: { after: (fn: () => Promise<void>) => void }, options: ServicenowOptions = {}): Promise<ServicenowStandIn> {
  const sn = await startServicenowStandIn({ token: TOKEN, ...options });
  t.after(() => sn.close());
  return sn;
}

function backendOf(sn: ServicenowStandIn): CmdbBackend & Required<Pick<CmdbBackend, 'list'>> {
  const tokenFile = join(scratch, 'token');
  writeFileSync(tokenFile, `${TOKEN}\n`);
  const argv = { 'cmdb-url': sn.url, 'cmdb-kind': 'servicenow', 'servicenow-data-source': 'cmdb-hook', 'cmdb-token-file': tokenFile };
  const backend = configureCmdb(readSettings(CMDB_OPTIONS, 'register', argv, {}), { command: 'register', deregisterAction: undefined, urlRequired: true }).open();
  assert.ok('list' in backend, 'the servicenow backend lists');
  return backend as CmdbBackend & Required<Pick<CmdbBackend, 'list'>>;
}

/** A CI as Identification and Reconciliation makes it for cmdb-hook (or, with other values, as someone else did). */
const ciOf = (cluster: string, values: Record<string, string> = {}) => ({ k8s_uid: randomUUID(), name: 'web-0', namespace: 'shop', cluster, ip_address: '10.1.2.3', install_status: '1', discovery_source: 'cmdb-hook', ...values });

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

test('pages of 500 CIs by the k8s_uid cursor, in id order; only cmdb-hook\'s CIs of the cluster; the query sent', async (t) => {
  const sn = await standIn(t);
  const uids = Array.from({ length: 1001 }, () => ciOf('east')).map((ci) => (sn.seed(ci), ci.k8s_uid)).sort();
  sn.seed(ciOf('west'));
  sn.seed(ciOf('east', { discovery_source: 'ServiceNow' }));
  sn.seed(ciOf('east', { discovery_source: '' }));
  sn.seed(ciOf('east', { k8s_uid: '' }));
  const backend = backendOf(sn);
  const pages = await listAll(backend, 'east');
  assert.deepEqual(pages.map((page) => page.items.length), [500, 500, 1]);
  assert.deepEqual(pages.flatMap((page) => page.items.map((record) => record.pod.uid)), uids, 'each of ours once, in order');
  assert.deepEqual(pages.map((page) => page.next), [`${uids[499]}_*`, `${uids[999]}_*`, null]);
  assert.deepEqual(pages.flatMap((page) => page.skipped), []);
  const first = pages[0]!.items[0]!;
  assert.deepEqual({ ...first, observedAt: '' }, { id: `${uids[0]}_*`, cluster: 'east', namespace: 'shop', pod: { name: 'web-0', uid: uids[0], ip: '10.1.2.3', ips: ['10.1.2.3'] }, container: '*', node: { name: null, ip: null }, app: null, labels: {}, annotations: {}, fields: {}, state: 'ready', observedAt: '', agent: { name: 'cmdb-hook', version: '' } });
  assert.match(first.observedAt, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/, 'sys_updated_on, as UTC ISO 8601');
  const queries = sn.requests.map((request) => request.query.get('sysparm_query'));
  assert.deepEqual(queries, [
    'cluster=east^discovery_source=cmdb-hook^k8s_uidISNOTEMPTY^ORDERBYk8s_uid',
    `cluster=east^discovery_source=cmdb-hook^k8s_uidISNOTEMPTY^k8s_uid>${uids[499]}^ORDERBYk8s_uid`,
    `cluster=east^discovery_source=cmdb-hook^k8s_uidISNOTEMPTY^k8s_uid>${uids[999]}^ORDERBYk8s_uid`,
  ]);
  assert.equal(sn.requests[0]!.query.get('sysparm_limit'), '500');
  assert.equal(sn.requests[0]!.headers.authorization, `Bearer ${TOKEN}`);
  assert.deepEqual(sn.requests.map((request) => request.method), ['GET', 'GET', 'GET'], 'listing writes nothing');
});

test('a CI written by register is listed as the pod\'s record <uid>_*; retired, it is listed terminated', async (t) => {
  const sn = await standIn(t);
  const backend = backendOf(sn);
  const uid = randomUUID();
  const record = buildRecord({ name: 'web-1', uid, namespace: 'shop', ip: '10.9.9.9', ips: ['10.9.9.9'], nodeName: 'n', hostIp: '192.0.2.1', labels: {}, annotations: {}, notes: [] }, { cluster: 'east', container: 'app', app: undefined, fields: {} }, 'ready');
  await backend.upsert(record, budget());
  assert.deepEqual((await backend.list('east', budget())).items.map((item) => [item.id, item.pod.name, item.state]), [[`${uid}_*`, 'web-1', 'ready']]);
  await backend.retire(record, budget());
  assert.deepEqual((await backend.list('east', budget())).items.map((item) => item.state), ['terminated']);
});

test('ServiceNow drops the query: other clusters\', other sources\' and hand-made CIs are skipped with the reason', async (t) => {
  const sn = await standIn(t);
  const ours = ciOf('east');
  const strangers = [ciOf('west'), ciOf('east', { discovery_source: 'ServiceNow' }), ciOf('east', { k8s_uid: '' })];
  for (const ci of [ours, ...strangers]) sn.seed(ci);
  // The answer of an instance that dropped every condition but the order: every CI, in k8s_uid order.
  const rows = [...sn.cis.values()].sort((a, b) => (a.k8s_uid! < b.k8s_uid! ? -1 : 1));
  sn.injectFault({ status: 200, body: { result: rows } });
  const page = await backendOf(sn).list('east', budget());
  assert.deepEqual(page.items.map((item) => item.pod.uid), [ours.k8s_uid]);
  assert.equal(page.skipped.length, 3);
  const reasons = page.skipped.map((line) => line.replace(/^CI \d+ \(sys_id [0-9a-f]+\): /, '')).sort();
  assert.deepEqual(reasons, ['cluster is "west", not "east"', 'discovery_source is "ServiceNow", not --servicenow-data-source "cmdb-hook"', 'no k8s_uid']);
});

test('an answer that repeats a page or comes out of order is a refusal, so paging ends; a 503 is transient', async (t) => {
  const sn = await standIn(t);
  const uids = [ciOf('east'), ciOf('east')].map((ci) => (sn.seed(ci), ci.k8s_uid)).sort();
  const backend = backendOf(sn);
  const all = [...sn.cis.values()].sort((a, b) => (a.k8s_uid! < b.k8s_uid! ? -1 : 1));
  sn.injectFault({ status: 200, body: { result: all } });
  await assert.rejects(backend.list('east', budget(), `${uids[0]}_*`), (error) => {
    assert.ok(error instanceof CmdbRejectedError);
    assert.match(error.message, /\(CI 0 \(k8s_uid ".*"\) does not come after ".*_\*": ServiceNow dropped the k8s_uid condition, so paging would not end\)/);
    return true;
  });
  sn.injectFault({ status: 200, body: { result: [...all].reverse() } });
  await assert.rejects(backend.list('east', budget()), /CI 1 is not in k8s_uid order: ServiceNow dropped ORDERBYk8s_uid/);
  sn.injectFault({ status: 503, body: { error: { message: 'busy', detail: null }, status: 'failure' } });
  await assert.rejects(backend.list('east', budget()), (error) => error instanceof CmdbUnavailableError && error.status === 503);
  sn.injectFault({ status: 404, body: { error: { message: 'No Record found', detail: 'Records matching query not found' }, status: 'failure' } });
  assert.deepEqual(await backend.list('east', budget()), { items: [], next: null, skipped: [] }, 'version 1\'s 404 for no match');
});

test('the stand-in orders by k8s_uid only when asked; without ORDERBY it answers in its own order', async (t) => {
  const sn = await standIn(t, { orderIgnored: true });
  for (let index = 0; index < 20; index++) sn.seed(ciOf('east'));
  await assert.rejects(backendOf(sn).list('east', budget()), /is not in k8s_uid order/);
});
