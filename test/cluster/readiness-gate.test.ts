// The readiness gate against the API stand-in over HTTPS (the stand-in merges pods/status conditions by type and
// refuses a patch carrying another pod's uid, as kube-apiserver does), and once with the real `kubectl wait`.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { KubeClient } from '../../src/cluster/kube/api-client.ts';
import { GATE_CONDITION } from '../../src/cluster/readiness-gate.ts';
import { kubectlStream, requireKubectl } from '../support/kube-api/kubectl.ts';
import { eventually, tempDir } from '../support/kube-client.ts';
import { addReadyNow, asPod, conditionsOf, idle, scene, type Condition } from './readiness-gate-support.ts';

test('registered: True with CMDBRegistered; Ready, ContainersReady and the other conditions untouched; written once', async (t) => {
  const { api, gate, told, gateOf, patches, pod } = await scene(t, { gateTimeoutMs: 60_000 });
  addReadyNow(api, 'web-0');
  const others = conditionsOf(api.pod('shop', 'web-0'));
  assert.deepEqual(others.map((condition) => condition.type), ['PodReadyToStartContainers', 'Initialized', 'Ready', 'ContainersReady', 'PodScheduled']);
  gate.update(pod('web-0'), false);
  assert.equal(gate.pending(), 1);
  gate.update(pod('web-0'), true);
  await eventually('onSet', () => (told.length > 0 ? true : undefined));
  const set = gateOf('web-0') ?? assert.fail('no condition');
  assert.deepEqual([set.status, set.reason, set.message], ['True', 'CMDBRegistered', 'every record of this pod is written in the CMDB']);
  assert.deepEqual(conditionsOf(api.pod('shop', 'web-0')).filter((condition) => condition.type !== GATE_CONDITION), others, 'every other condition as the kubelet left it');
  assert.deepEqual(told, ['web-0 True CMDBRegistered']);
  assert.equal(gate.pending(), 0);
  gate.update(pod('web-0'), true);
  gate.update(pod('web-0'), false);
  await idle(100);
  assert.equal(patches('web-0'), 1);
});

test('not registered within the gate timeout: True with CMDBUnavailable, from the timer alone (no further pod event)', async (t) => {
  const { api, gate, logs, told, gateOf, patches } = await scene(t, { gateTimeoutMs: 1500 });
  // ContainersReady's time has whole seconds: the deadline is 0.5 to 1.5 s away.
  const ready = addReadyNow(api, 'web-0');
  gate.update(ready, false);
  await sleep(300);
  assert.equal(patches('web-0'), 0, 'not before the timeout');
  await eventually('onSet', () => (told.length > 0 ? true : undefined), 5000);
  const set = gateOf('web-0') ?? assert.fail('no condition');
  assert.deepEqual([set.status, set.reason], ['True', 'CMDBUnavailable']);
  assert.match(set.message ?? '', /not written within 1\.5s \(--gate-timeout\) of its containers being ready; the gate opens anyway/);
  assert.deepEqual(told, ['web-0 True CMDBUnavailable']);
  assert.ok(logs.some((line) => line.level === 40 && /gate opens anyway/.test(line.msg)), 'failing open is a warning');
  assert.equal(gate.pending(), 0);
});

test('without ContainersReady the clock starts at the gate\'s first sight of every container ready; not-ready containers arm nothing', async (t) => {
  const { api, gate, gateOf, patches, pod } = await scene(t, { gateTimeoutMs: 300 });
  api.addPod({ name: 'web-0', namespace: 'shop', readinessGates: [GATE_CONDITION], replicaSet: null, ready: false });
  gate.update(pod('web-0'), false);
  await idle(600);
  assert.equal(patches('web-0'), 0, 'containers not ready: no timeout runs');
  api.modifyPod('shop', 'web-0', (object) => {
    const status = object.status as { conditions: Condition[]; containerStatuses: { ready: boolean }[] };
    status.conditions = status.conditions.filter((condition) => condition.type !== 'ContainersReady');
    for (const container of status.containerStatuses) container.ready = true;
  });
  gate.update(pod('web-0'), false);
  await sleep(100);
  assert.equal(patches('web-0'), 0, 'the first sight starts the clock');
  const set = await eventually('the fail-open condition', () => gateOf('web-0'));
  assert.equal(set.reason, 'CMDBUnavailable');
});

test('--strict: False with CMDBPending after the timeout, True with CMDBRegistered once registered, never back to False', async (t) => {
  const { api, gate, told, gateOf, patches, pod } = await scene(t, { strict: true, gateTimeoutMs: 300 });
  // makePod's containers became ready a minute ago: the timeout is long past when the gate first hears of the pod.
  api.addPod({ name: 'web-0', namespace: 'shop', readinessGates: [GATE_CONDITION], replicaSet: null });
  const stale = pod('web-0');
  gate.update(stale, false);
  await eventually('onSet', () => (told.length > 0 ? true : undefined));
  const pending = gateOf('web-0') ?? assert.fail('no condition');
  assert.deepEqual([pending.status, pending.reason], ['False', 'CMDBPending']);
  assert.match(pending.message ?? '', /not written 300ms \(--gate-timeout\) after its containers became ready; --strict keeps the gate closed/);
  assert.equal(gate.pending(), 1);
  gate.update(pod('web-0'), false);
  gate.update(stale, false);
  await idle(100);
  assert.equal(patches('web-0'), 1, 'the same False is not written again, even from a stale copy');

  gate.update(pod('web-0'), true);
  await eventually('onSet', () => (told.length > 1 ? true : undefined));
  const registered = gateOf('web-0') ?? assert.fail('no condition');
  assert.equal(registered.reason, 'CMDBRegistered');
  assert.deepEqual(told, ['web-0 False CMDBPending', 'web-0 True CMDBRegistered']);
  assert.equal(gate.pending(), 0);
  for (const copy of [stale, pod('web-0')]) gate.update(copy, false);
  await idle();
  assert.equal(patches('web-0'), 2);
  assert.equal(gateOf('web-0')?.status, 'True');
});

test('a True condition is left alone whatever happens; a pod without the gate is never patched', async (t) => {
  const { api, gate, gateOf, patches, pod } = await scene(t, { strict: true, gateTimeoutMs: 300 });
  api.addPod({ name: 'opened', namespace: 'shop', readinessGates: [GATE_CONDITION], replicaSet: null, conditions: [{ type: GATE_CONDITION, status: 'True', reason: 'CMDBUnavailable' }] });
  api.addPod({ name: 'plain', namespace: 'shop', replicaSet: null });
  api.addPod({ name: 'other-gate', namespace: 'shop', replicaSet: null, readinessGates: ['example.com/other'] });
  for (const name of ['opened', 'plain', 'other-gate']) {
    gate.update(pod(name), false);
    gate.update(pod(name), true);
  }
  assert.equal(gate.pending(), 0);
  // A gated pod handed over after them, as the proof that the gate was working meanwhile.
  addReadyNow(api, 'control');
  gate.update(pod('control'), false);
  await eventually('the control pod\'s condition', () => gateOf('control'));
  await idle();
  assert.deepEqual(['opened', 'plain', 'other-gate'].map(patches), [0, 0, 0]);
  assert.deepEqual([gateOf('opened')?.status, gateOf('opened')?.reason], ['True', 'CMDBUnavailable']);
});

test('a pod made again under its name (new uid) is not patched: replaced, logged once, its uid dropped; a deleted one too', async (t) => {
  const { api, gate, logs, told, gateOf, patches, pod } = await scene(t);
  const old = asPod(api.addPod({ name: 'web-0', namespace: 'shop', readinessGates: [GATE_CONDITION], replicaSet: null }));
  api.deletePod('shop', 'web-0', 0);
  api.addPod({ name: 'web-0', namespace: 'shop', readinessGates: [GATE_CONDITION], replicaSet: null });
  const replacedLines = () => logs.filter((line) => /readiness gate: pod shop\/web-0 is no longer uid .*: it was deleted and made again; its condition is not set/.test(line.msg));
  gate.update(old, true);
  await eventually('the replaced outcome', () => (replacedLines().length === 1 ? true : undefined));
  assert.equal(gateOf('web-0'), undefined, 'the newcomer keeps no condition of its predecessor');
  assert.equal(gate.pending(), 0);
  gate.update(old, true);
  gate.update(old, false);
  await idle(100);
  assert.equal(patches('web-0'), 1);
  assert.equal(replacedLines().length, 1, 'logged once');

  gate.update(pod('web-0'), true);
  await eventually('the newcomer\'s own condition', () => (told.length > 0 ? true : undefined));
  assert.equal(gateOf('web-0')?.status, 'True');
  assert.deepEqual(told, ['web-0 True CMDBRegistered']);

  api.addPod({ name: 'db-0', namespace: 'shop', readinessGates: [GATE_CONDITION], replicaSet: null });
  const gone = pod('db-0');
  api.deletePod('shop', 'db-0', 0);
  gate.update(gone, true);
  await eventually('the gone outcome', () => logs.find((line) => /pod shop\/db-0 \(uid .*\) is gone; its condition is not set/.test(line.msg)));
  gate.forget(gone.metadata?.uid ?? '');
});

test('transient failures (503, then 429 with Retry-After) are tried again; the condition lands once', async (t) => {
  const { api, gate, told, gateOf, patches, pod } = await scene(t);
  api.addPod({ name: 'web-0', namespace: 'shop', readinessGates: [GATE_CONDITION], replicaSet: null });
  const isPatch = (request: { method: string }) => request.method === 'PATCH';
  api.injectFault({ status: 503, match: isPatch });
  api.injectFault({ status: 429, retryAfterSeconds: 1, match: isPatch });
  gate.update(pod('web-0'), true);
  await eventually('the condition after two failures', () => (told.length > 0 ? true : undefined), 8000);
  assert.equal(gateOf('web-0')?.reason, 'CMDBRegistered');
  assert.equal(patches('web-0'), 3);
  assert.deepEqual(told, ['web-0 True CMDBRegistered']);
  const [, second, third] = api.requests.filter((request) => request.method === 'PATCH');
  assert.ok(third && second && third.at.getTime() - second.at.getTime() >= 900, 'the Retry-After of the 429 was honoured');
});

test('a refused patch is logged and not tried again until the wanted condition changes', async (t) => {
  const { api, gate, logs, gateOf, patches, pod } = await scene(t, { strict: true });
  api.addPod({ name: 'web-0', namespace: 'shop', readinessGates: [GATE_CONDITION], replicaSet: null });
  api.injectFault({ status: 403, match: (request) => request.method === 'PATCH' });
  gate.update(pod('web-0'), false);
  await eventually('the refusal', () => logs.find((line) => line.level === 50 && /setting cmdb-hook\.io\/registered=False was refused/.test(line.msg)));
  gate.update(pod('web-0'), false);
  await idle();
  assert.equal(patches('web-0'), 1);
  gate.update(pod('web-0'), true);
  assert.equal((await eventually('the registered condition', () => gateOf('web-0'))).reason, 'CMDBRegistered');
});

test('at most maxInFlight patches at once, one per pod', async (t) => {
  let now = 0;
  let most = 0;
  const wrap = (client: KubeClient): KubeClient => ({
    ...client,
    request: async (request) => {
      most = Math.max(most, ++now);
      try {
        return await client.request(request);
      } finally {
        now -= 1;
      }
    },
  });
  const { api, gate, told, patches, pod } = await scene(t, { maxInFlight: 2, wrap });
  const names = Array.from({ length: 12 }, (_, n) => `web-${n}`);
  for (const name of names) api.addPod({ name, namespace: 'shop', readinessGates: [GATE_CONDITION], replicaSet: null });
  for (const name of names) gate.update(pod(name), true);
  await eventually('every condition', () => (told.length === names.length ? true : undefined));
  assert.equal(most, 2);
  assert.deepEqual(names.map(patches), names.map(() => 1));
});

test('forget() and the signal stop the timers: nothing is patched afterwards', async (t) => {
  const { api, gate, stop, patches, pod } = await scene(t, { gateTimeoutMs: 1500 });
  addReadyNow(api, 'forgotten');
  addReadyNow(api, 'stopped');
  gate.update(pod('forgotten'), false);
  gate.update(pod('stopped'), false);
  assert.equal(gate.pending(), 2);
  gate.forget(pod('forgotten').metadata?.uid ?? '');
  assert.equal(gate.pending(), 1);
  stop.abort();
  gate.update(pod('stopped'), true);
  await idle(1700);
  assert.deepEqual([patches('forgotten'), patches('stopped')], [0, 0]);
});

test('kubectl wait --for=condition=cmdb-hook.io/registered returns once the gate sets it', async (t) => {
  requireKubectl();
  const { api, gate, pod, kubeconfig } = await scene(t, { gateTimeoutMs: 60_000 });
  api.addPod({ name: 'web-0', namespace: 'shop', readinessGates: [GATE_CONDITION], replicaSet: null });
  const waiting = kubectlStream(['wait', `--for=condition=${GATE_CONDITION}`, 'pod/web-0', '-n', 'shop', '--timeout=20s'], { home: tempDir('kubectl-home-'), kubeconfig });
  t.after(() => waiting.stop());
  await eventually('kubectl\'s watch', () => api.requests.find((request) => request.query.get('watch') === 'true' && request.query.get('fieldSelector') === 'metadata.name=web-0'), 15_000);
  gate.update(pod('web-0'), true);
  const met = await waiting.exited;
  assert.equal(met.code, 0, met.stderr);
  assert.match(met.stdout, /pod\/web-0 condition met/);
});

test('a --gate-timeout beyond what a Node timer holds (2^31-1 ms) waits instead of firing at once', async (t) => {
  const warnings: string[] = [];
  const onWarning = (warning: Error) => warnings.push(warning.name);
  process.on('warning', onWarning);
  t.after(() => process.off('warning', onWarning));
  const { api, gate, patches, pod } = await scene(t, { gateTimeoutMs: 30 * 24 * 3600_000 });
  addReadyNow(api, 'web-0');
  gate.update(pod('web-0'), false);
  await idle(200);
  assert.deepEqual([patches('web-0'), gate.pending(), warnings], [0, 1, []]);
});
