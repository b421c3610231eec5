// The plan of a pass: create, update only for Kubernetes facts, retire only owned records whose pod is gone or
// finished past the grace, never in a namespace that could not be listed, at most max-retire, and nothing when more
// than half would go; the policies of external-dns; the --dry-run text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatPlan } from '../../src/cluster/format-plan.ts';
import { ALL_NAMESPACES } from '../../src/cluster/kube/pod-cache.ts';
import { OrphanClock } from '../../src/cluster/orphan-clock.ts';
import type { Policy } from '../../src/cluster/plan.ts';
import type { CmdbRecord } from '../../src/pod/record.ts';
import { apiPod, hookRecord } from '../support/api-pods.ts';
import { CLUSTER, GRACE_MS, pass, summary, T0, written } from './plan-pass.ts';

const uid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const web = (n: number, shape = {}) => apiPod({ name: `web-${n}`, uid: uid(n), ip: `10.244.1.${n}`, ...shape });

test('a record the hook wrote for the same container costs nothing, whatever its observedAt and agent version', () => {
  const pod = web(1, { annotations: { 'cmdb-hook.io/app': 'shop', 'cmdb-hook.io/field.team': 'web' } });
  const byHook = hookRecord(pod, CLUSTER, 'app', { app: 'shop', field: ['team=web'] }, new Date(T0 - 86_400_000));
  assert.deepEqual(pass({ pods: [pod], listed: [byHook] }).actions, []);
  assert.deepEqual(pass({ pods: [pod], listed: [{ ...byHook, agent: { name: 'cmdb-hook', version: '0.0.9' } }] }).actions, []);
});

test('update only when a fact observed in Kubernetes differs', () => {
  const pod = web(1);
  const record = written(pod);
  const rows: { what: string; listed: CmdbRecord; changed?: string[] }[] = [
    { what: 'same facts, older observedAt', listed: { ...record, observedAt: '2020-01-01T00:00:00.000Z' } },
    { what: 'labels in another order', listed: { ...record, labels: Object.fromEntries(Object.entries(record.labels).reverse()) } },
    { what: 'labels', listed: { ...record, labels: { tier: 'old' } }, changed: ['labels'] },
    { what: 'annotations', listed: { ...record, annotations: { a: 'b' } }, changed: ['annotations'] },
    { what: 'pod IP', listed: { ...record, pod: { ...record.pod, ip: '10.9.9.9', ips: ['10.9.9.9'] } }, changed: ['pod'] },
    { what: 'node', listed: { ...record, node: { name: 'node-9', ip: '192.0.2.9' } }, changed: ['node'] },
    { what: 'app and fields', listed: { ...record, app: 'other', fields: { team: 'x' } }, changed: ['app', 'fields'] },
    { what: 'retired by a preStop at a container restart; the container is ready again', listed: { ...record, state: 'terminated' }, changed: ['state'] },
  ];
  for (const { what, listed, changed } of rows) {
    const plan = pass({ pods: [pod], listed: [listed] });
    assert.deepEqual(plan.actions.map((action) => [action.kind, action.changed]), changed ? [['update', changed]] : [], what);
  }
});

test('policies: sync does all, upsert-only never retires, create-only only creates', () => {
  const fresh = web(1);
  const changed = web(2);
  const same = web(3);
  const gone = web(4);
  const listed = [{ ...written(changed), labels: { tier: 'old' } }, written(same), written(gone, 'app', T0 - GRACE_MS - 1)];
  const rows: { policy: Policy; want: string[] }[] = [
    { policy: 'sync', want: ['create shop/web-1 app', 'update shop/web-2 app', 'retire shop/web-4 app'] },
    { policy: 'upsert-only', want: ['create shop/web-1 app', 'update shop/web-2 app'] },
    { policy: 'create-only', want: ['create shop/web-1 app'] },
  ];
  for (const { policy, want } of rows) assert.deepEqual(summary(pass({ pods: [fresh, changed, same], listed, policy })), want, policy);
});

test('ownership: records made by hand or by another cluster are never changed or retired', () => {
  const pod = web(1);
  const old = (n: number) => written(web(n), 'app', T0 - GRACE_MS - 1);
  const byHand = { ...written(pod), labels: {}, agent: { name: 'admin', version: '1' } };
  const listed = [byHand, { ...old(2), agent: { name: 'admin', version: '1' } }, { ...old(3), cluster: 'prod-us-1' }, old(4), old(5), old(6)];
  const plan = pass({ pods: [pod, web(5), web(6)], listed });
  assert.deepEqual(summary(plan), ['retire shop/web-4 app'], 'of the gone pods\' records only the owned one');
  assert.deepEqual(plan.notOwned, [byHand.id], 'the hand-made record with the id this pod wants is left alone');
  assert.match(formatPlan(plan), new RegExp(`^# 1 not owned by this cluster's cmdb-hook, left alone: ${byHand.id}$`, 'm'));
});

test('a StatefulSet\'s web-0 made again (same name, new UID): the new record at once, the old retired after the grace', () => {
  const before = apiPod({ name: 'web-0', uid: uid(100), ip: '10.244.1.10' });
  const after = apiPod({ name: 'web-0', uid: uid(101), ip: '10.244.1.11' });
  const clock = new OrphanClock();
  const old = written(before, 'app', T0 - 86_400_000);
  const first = pass({ pods: [after], listed: [old], clock, at: T0 });
  assert.deepEqual(first.actions.map(({ kind, record }) => [kind, record.pod.uid]), [['create', uid(101)]]);
  assert.equal(first.waiting, 1, 'the grace counts from now, not from the old record\'s observedAt');
  const listed = [old, first.actions[0]?.record as CmdbRecord];
  assert.deepEqual(summary(pass({ pods: [after], listed, clock, at: T0 + GRACE_MS })), []);
  const last = pass({ pods: [after], listed, clock, at: T0 + GRACE_MS + 1 });
  assert.deepEqual(last.actions.map(({ kind, record }) => [kind, record.pod.uid]), [['retire', uid(100)]]);
});

test('--once has no clock: a record counts as gone long enough when its observedAt is older than the grace', () => {
  const rows: { what: string; observedAt: string; retired: boolean }[] = [
    { what: 'older than the grace', observedAt: new Date(T0 - GRACE_MS - 1).toISOString(), retired: true },
    { what: 'exactly the grace', observedAt: new Date(T0 - GRACE_MS).toISOString(), retired: false },
    { what: 'no date: never on its word', observedAt: 'yesterday', retired: false },
  ];
  for (const { what, observedAt, retired } of rows) {
    const plan = pass({ pods: [], listed: [{ ...written(web(1)), observedAt }] });
    assert.deepEqual([summary(plan).length, plan.waiting], retired ? [1, 0] : [0, 1], what);
  }
});

test('an evicted pod (phase Failed, still listed) has its record retired after the grace', () => {
  const evicted = web(1, { phase: 'Failed', ready: [] });
  const plan = pass({ pods: [evicted, web(2)], listed: [written(web(1)), written(web(2))] });
  assert.deepEqual(summary(plan), ['retire shop/web-1 app']);
});

test('a pod outside the selector, a readiness flap and a deleting pod are not gone: nothing is retired', () => {
  const outside = web(1, { labels: { app: 'other' } });
  const flapping = web(2, { ready: [] });
  const deleting = web(3, { deleting: true });
  const listed = [written(web(1)), written(web(2)), written(web(3))];
  const plan = pass({ pods: [outside, flapping, deleting], selected: [flapping, deleting], listed });
  assert.deepEqual([summary(plan), plan.waiting], [[], 0]);
});

test('records in a namespace that could not be listed are never retired, nor waited on', () => {
  const payments = (n: number) => written(apiPod({ name: `pay-${n}`, uid: uid(n), namespace: 'payments' }), 'app', T0 - 86_400_000);
  const listed = [payments(1), payments(2), written(web(3))];
  for (const notListable of [['payments'], [ALL_NAMESPACES]]) {
    const plan = pass({ pods: [web(3)], listed, notListable });
    assert.deepEqual([summary(plan), plan.waiting, plan.retireBlocked], [[], 0, undefined], notListable.join());
  }
});

test('node loss: more than half of the owned records due retires nothing and says so; half is allowed', () => {
  const pods = Array.from({ length: 10 }, (_, n) => web(n + 1));
  const listed = pods.map((pod) => written(pod));
  const lost = pass({ pods: pods.slice(6), listed });
  assert.deepEqual([summary(lost), lost.retireBlocked], [[], { due: 6, owned: 10 }]);
  assert.match(formatPlan(lost), /^# retire blocked: 6 of 10 owned records would be retired, more than half; nothing retired/m);
  assert.match(formatPlan(lost), /\n\d+ to create, .* held back by max-retire\n$/, 'the counts last');
  assert.equal(summary(pass({ pods: pods.slice(5), listed })).length, 5);
  // Retired records are not live: they neither count as owned nor are retired again.
  const retired = pods.slice(2, 6).map((pod) => ({ ...written(pod), state: 'terminated' as const }));
  assert.deepEqual(pass({ pods: [], listed: [written(pods[0] ?? web(0)), written(pods[1] ?? web(0)), ...retired] }).retireBlocked, { due: 2, owned: 2 });
  // One record of a one-pod cluster is no mass event.
  assert.deepEqual(summary(pass({ pods: [], listed: [written(web(1))] })), ['retire shop/web-1 app']);
});

test('max-retire: the longest-missing first, the rest wait for the next pass', () => {
  const pods = Array.from({ length: 10 }, (_, n) => web(n + 1));
  const listed = pods.map((pod, n) => written(pod, 'app', T0 - GRACE_MS - (n < 3 ? 1000 * (n + 1) : 0)));
  const plan = pass({ pods: pods.slice(3), listed, maxRetire: 2 });
  assert.deepEqual([summary(plan), plan.capped], [['retire shop/web-3 app', 'retire shop/web-2 app'], 1]);
  const next = pass({ pods: pods.slice(3), listed: listed.filter((record) => !plan.actions.some((action) => action.record.id === record.id)), maxRetire: 2 });
  assert.deepEqual([summary(next), next.capped], [['retire shop/web-1 app'], 0]);
});

test('the orphan clock forgets a record whose pod is back, and starts again if it goes', () => {
  const clock = new OrphanClock();
  const listed = [written(web(1)), written(web(2)), written(web(3))];
  assert.equal(pass({ pods: [web(2), web(3)], listed, clock, at: T0 }).waiting, 1);
  assert.equal(clock.size, 1);
  assert.equal(pass({ pods: [web(1), web(2), web(3)], listed, clock, at: T0 + 1000 }).waiting, 0);
  assert.equal(clock.size, 0);
  const again = pass({ pods: [web(2), web(3)], listed, clock, at: T0 + GRACE_MS + 2000 });
  assert.deepEqual([summary(again), again.waiting], [[], 1], 'the grace starts over');
});

test('formatPlan: one line per action (an update names what changed in one word), then the counts', () => {
  const listed = [written(web(2), 'app'), { ...written(web(3)), labels: {} }, written(web(4)), written(web(5), 'app', T0 - 60_000)];
  const plan = pass({ pods: [web(1), web(3), web(4)], listed });
  assert.equal(
    formatPlan(plan),
    [
      `create ${uid(1)}_app shop/web-1 app`,
      `update ${uid(3)}_app shop/web-3 app changed=labels`,
      `retire ${uid(2)}_app shop/web-2 app`,
      '1 to create, 1 to update, 1 to retire, 1 waiting for the orphan grace, 0 held back by max-retire',
      '',
    ].join('\n'),
  );
});

test('a CMDB that keeps less than the record (NetBox, ServiceNow) is compared on what it keeps: no write every pass', async () => {
  const { comparableIp } = await import('../../src/cmdb/netbox/list-ips.ts');
  const { comparableCi } = await import('../../src/cmdb/servicenow/list-cis.ts');
  const pod = web(1, { containers: ['app', 'proxy'], ips: ['10.244.1.1', 'fd00::1'], annotations: { 'cmdb-hook.io/field.team': 'web' } });
  for (const [kind, comparable] of [['netbox', comparableIp], ['servicenow', comparableCi]] as const) {
    // What list() gives back: the written records as the CMDB keeps them, ServiceNow's one CI per pod once.
    const listed = [...new Map(['app', 'proxy'].map((container) => comparable(written(pod, container))).map((record) => [record.id, record])).values()];
    assert.deepEqual(summary(pass({ pods: [pod], listed, comparable })), [], `${kind}: in sync`);
    assert.deepEqual(summary(pass({ pods: [pod], listed: listed.map((record) => ({ ...record, pod: { ...record.pod, ips: [...record.pod.ips].reverse() } })), comparable })), [], `${kind}: addresses in another order`);
    const moved = web(1, { containers: ['app', 'proxy'], ip: '10.244.9.9', ips: ['10.244.9.9'], annotations: { 'cmdb-hook.io/field.team': 'web' } });
    assert.ok(summary(pass({ pods: [moved], listed, comparable })).every((line) => line.startsWith('update ')), `${kind}: a new address is an update`);
    assert.ok(summary(pass({ pods: [moved], listed, comparable })).length > 0);
    // The pod gone past the grace: the listed records (ServiceNow's one CI) retired, once (other pods stay).
    const others = [web(2), web(3), web(4), web(5)];
    assert.deepEqual(summary(pass({ pods: others, listed: [...listed, ...others.map((other) => comparable(written(other)))], at: T0 + GRACE_MS + 1, comparable })), kind === 'servicenow' ? ['retire shop/web-1 *'] : ['retire shop/web-1 app', 'retire shop/web-1 proxy'], `${kind}: retire`);
  }
});
