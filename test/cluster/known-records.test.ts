// Between full passes the controller keeps each record slim (known-records.ts): a pod event planned against those
// must decide create and update as a full pass does against the whole records.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { desiredRecords } from '../../src/cluster/desired-state.ts';
import { knownRecord, planAgainstKnown, type KnownRecord } from '../../src/cluster/known-records.ts';
import type { Policy } from '../../src/cluster/plan.ts';
import type { CmdbRecord } from '../../src/pod/record.ts';
import { comparableIp } from '../../src/cmdb/netbox/list-ips.ts';
import { apiPod } from '../support/api-pods.ts';
import { CLUSTER, pass, T0, written } from './plan-pass.ts';

const pod = apiPod({ name: 'web-1', uid: '00000000-0000-4000-8000-000000000001', ip: '10.244.1.1', labels: { app: 'web', tier: 'front' }, annotations: { 'team.example/owner': 'shop' } });
const record = written(pod);
const same = (each: CmdbRecord) => each;

function betweenPasses(listed: readonly CmdbRecord[], policy: Policy = 'upsert-only', comparable = same) {
  const known = new Map<string, KnownRecord>(listed.map((each) => [comparable(each).id, knownRecord(each, CLUSTER, comparable(each))]));
  const existing = { has: (id: string) => known.get(id)?.owned === true && known.get(id)?.state !== 'terminated' };
  const desired = desiredRecords({ pods: [pod], cluster: CLUSTER, existing, now: new Date(T0), listedId: (each) => comparable(each).id });
  return planAgainstKnown(desired, known, policy, comparable).map((action) => [action.kind, action.changed]);
}

test('a pod event against the slim records plans what a full pass plans, fact by fact', () => {
  const rows: { what: string; listed: CmdbRecord[] }[] = [
    { what: 'nothing listed', listed: [] },
    { what: 'same facts, older observedAt, another agent version', listed: [{ ...record, observedAt: '2020-01-01T00:00:00.000Z', agent: { name: 'cmdb-hook', version: '0.0.9' } }] },
    { what: 'labels in another order', listed: [{ ...record, labels: Object.fromEntries(Object.entries(record.labels).reverse()) }] },
    { what: 'labels', listed: [{ ...record, labels: { tier: 'old' } }] },
    { what: 'a label with no value where one is expected', listed: [{ ...record, labels: { ...record.labels, tier: '' } }] },
    { what: 'annotations', listed: [{ ...record, annotations: { a: 'b' } }] },
    { what: 'pod IPs in another order', listed: [{ ...record, pod: { ...record.pod, ips: [...record.pod.ips, '10.9.9.9'].reverse() } }] },
    { what: 'node and app', listed: [{ ...record, node: { name: 'node-9', ip: '192.0.2.9' }, app: null }] },
    { what: 'terminated by a preStop', listed: [{ ...record, state: 'terminated' }] },
    { what: 'another cluster\'s record with this id', listed: [{ ...record, cluster: 'elsewhere', labels: {} }] },
    { what: 'a hand-made record with this id', listed: [{ ...record, agent: { name: 'someone', version: '1' }, labels: {} }] },
  ];
  for (const { what, listed } of rows) {
    for (const policy of ['upsert-only', 'create-only'] as const) {
      const full = pass({ pods: [pod], listed, policy, at: T0 }).actions.map((action) => [action.kind, action.changed]);
      assert.deepEqual(betweenPasses(listed, policy), full, `${what}, ${policy}`);
    }
  }
});

test('with a backend that keeps only some facts, only those count between passes too', () => {
  // NetBox keeps no annotations: a listed IP address that lacks them is in sync.
  const listed = comparableIp({ ...record, annotations: {} });
  assert.deepEqual(betweenPasses([listed], 'upsert-only', comparableIp), []);
  assert.deepEqual(betweenPasses([comparableIp({ ...record, node: { name: 'node-9', ip: null } })], 'upsert-only', comparableIp), pass({ pods: [pod], listed: [comparableIp({ ...record, node: { name: 'node-9', ip: null } })], policy: 'upsert-only', comparable: comparableIp }).actions.map((action) => [action.kind, action.changed]));
});
