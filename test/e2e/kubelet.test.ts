// The project's own manifests, run by a kubelet-faithful harness (test/support/kubelet/pod.ts) against the
// sandbox CMDB. Each scenario asserts the CMDB's state over time and the kubelet's own timeline (Running only after
// postStart returns; preStop, then SIGTERM, inside the grace period).
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerSpec } from '../support/kubelet/environment.ts';
import { render, type KubeObject } from '../support/kubelet/render.ts';
import { app, cluster as clusterWith, imageFolders, historyOf, readyAt, recordOf, TOKEN_IN_MANIFESTS, writesOf } from '../support/kubelet/scenario.ts';
import type { Fault } from '../support/sandbox-cmdb.ts';

const { withAgent, bare: withoutAgent } = await imageFolders();
// This app image carries the agent and Node 26 (which the bundled agent needs; the single executable does not).
const cluster = (t: TestContext) => clusterWith(t, { 'shop/web:1.4.2': { root: withAgent, node: true }, 'cmdb-hook:0.1.0': { root: withAgent, node: true } });

/** The test's own overlay: a different terminationGracePeriodSeconds. */
function setGracePeriod(objects: KubeObject[], seconds: number): KubeObject[] {
  for (const object of objects) {
    const spec = (object.spec as { template?: { spec: { terminationGracePeriodSeconds?: number } } } | undefined)?.template?.spec;
    if (spec) spec.terminationGracePeriodSeconds = seconds;
  }
  return objects;
}

/** The test's own overlay, as a user's kustomize patch would do: a shorter --timeout for one hook. */
function setHookTimeout(objects: KubeObject[], hook: 'postStart' | 'preStop', timeout: string): KubeObject[] {
  for (const object of objects) {
    const spec = (object.spec as { template?: { spec: { containers: ContainerSpec[] } } } | undefined)?.template?.spec;
    for (const container of spec?.containers ?? []) {
      const command = container.lifecycle?.[hook]?.exec?.command ?? [];
      const at = command.indexOf('--timeout');
      if (at >= 0) command[at + 1] = timeout;
    }
  }
  return objects;
}

test('1. rollout of two replicas: each registered only after its app is ready, Running after that; both removed on scale-down', async (t) => {
  const { cmdb, pod } = await cluster(t);
  const pods = [pod({ name: 'shop-web-6f9c8d7b5-x2x5q', entrypoint: app('1s') }), pod({ name: 'shop-web-6f9c8d7b5-k8wzt', entrypoint: app('2s') })];
  await Promise.all(pods.map((replica) => replica.start()));
  for (const replica of pods) {
    const record = recordOf(cmdb, replica);
    assert.ok(record, `${replica.facts.name} registered`);
    assert.equal(record.state, 'ready');
    assert.deepEqual(record.pod, { name: replica.facts.name, uid: replica.facts.uid, ip: replica.facts.ips[0], ips: replica.facts.ips });
    assert.deepEqual(record.fields, { owner: 'team payments, EU', 'cost-center': '4711' }, 'CMDB_HOOK_FIELD from the ConfigMap');
    assert.equal(record.labels && (record.labels as Record<string, string>)['app.kubernetes.io/name'], 'shop-web', 'labels from the downwardAPI volume');
    const [put] = writesOf(cmdb, replica);
    assert.equal(put?.authorization, `Bearer ${TOKEN_IN_MANIFESTS}`, 'the token from the mounted Secret');
    assert.ok(put.wallAt >= readyAt(replica)!, 'the PUT came after the app was ready');
    assert.ok(replica.at('running')! >= put.at, 'Running only after the hook returned');
    assert.match(replica.logs('app'), /registered as .*_app/, 'hook logs reach `kubectl logs` through /proc/1/fd/1');
  }
  await Promise.all(pods.map((replica) => replica.terminate()));
  assert.equal(cmdb.records.size, 0);
  for (const replica of pods) {
    const deleted = writesOf(cmdb, replica).find((write) => write.method === 'DELETE');
    assert.ok(deleted && deleted.at <= replica.at('SIGTERM')!, 'deregistered before SIGTERM');
    assert.ok(replica.at('preStop:exited')! <= replica.at('SIGTERM')!);
  }
});

test('2. an app that never becomes ready: the container still reaches Running when the deadline passes; nothing registered', async (t) => {
  const { cmdb, pod } = await cluster(t);
  const replica = pod({ name: 'shop-web-6f9c8d7b5-nvrrd', entrypoint: app('0s', 'never'), objects: setHookTimeout(render('base'), 'postStart', '3s') });
  await replica.start();
  const running = replica.at('running')! - replica.at('started')!;
  assert.ok(running >= 3000 && running < 4500, `Running after ${Math.round(running)}ms`);
  assert.equal(replica.events.find((event) => event.type === 'postStart:exited')?.detail, '0');
  assert.equal(cmdb.requests.length, 0, 'the request log covers the whole run: the CMDB was never asked, so it never held a record');
  assert.match(replica.logs('app'), /the app was not ready at http:\/\/127\.0\.0\.1:\d+\/healthz within 3s/);
});

// A CMDB that is up but fails, both ways a real one does: with an error status, and by accepting and never answering.
const failingCmdbs: { how: string; name: string; fault: Fault; answered: number; logged: RegExp }[] = [
  { how: 'answers 503 to everything', name: 'shop-web-6f9c8d7b5-dwn01', fault: { status: 503 }, answered: 503, logged: /"level":50.*answered 503 Service Unavailable/ },
  { how: 'accepts connections and never answers', name: 'shop-web-6f9c8d7b5-dwn02', fault: { hang: true }, answered: 0, logged: /"level":50.*no answer before the deadline/ },
];
for (const { how, name, fault, answered, logged } of failingCmdbs) {
  test(`3. the CMDB ${how} during postStart: Running by --timeout + 1 s (the hook exits 0), the error logged, no record`, async (t) => {
    const { cmdb, pod } = await cluster(t);
    cmdb.injectFault({ ...fault, times: 1000 });
    const replica = pod({ name, entrypoint: app('0s'), objects: setHookTimeout(render('base'), 'postStart', '3s') });
    await replica.start();
    const running = replica.at('running')! - replica.at('started')!;
    assert.ok(running <= 3000 + 1000, `Running ${Math.round(running)}ms after the container started (register --timeout 3s)`);
    assert.equal(replica.events.find((event) => event.type === 'postStart:exited')?.detail, '0', 'fail open: the hook exits 0');
    assert.match(replica.logs('app'), logged, 'the error is in `kubectl logs`');
    // At Running: the CMDB was asked (so the hook really tried it) and never accepted a record.
    const tries = historyOf(cmdb, replica);
    assert.ok(tries.length >= 1, 'the hook reached the CMDB');
    assert.deepEqual(new Set(tries), new Set([`PUT ${answered}`]));
    assert.equal(cmdb.records.size, 0);
    // Once the CMDB recovers, nothing of the hook is left to register late: the CMDB stays as it was.
    cmdb.clearFaults();
    await sleep(1000);
    assert.deepEqual(historyOf(cmdb, replica), tries);
    assert.equal(cmdb.records.size, 0);
  });
}

test('4. the CMDB blackholed during preStop: preStop ends inside the grace period, SIGTERM follows on time, the record stays', async (t) => {
  const { cmdb, pod } = await cluster(t);
  const replica = pod({ name: 'shop-web-6f9c8d7b5-bh001', entrypoint: app('0s') });
  await replica.start();
  const registered = structuredClone(recordOf(cmdb, replica));
  assert.ok(registered, 'after postStart: registered');
  cmdb.injectFault({ hang: true, times: 1000 });
  await replica.terminate();
  const killing = replica.at('killing')!;
  const preStop = replica.at('preStop:exited')! - killing;
  const sigterm = replica.at('SIGTERM')! - killing;
  assert.ok(preStop <= 11_000, `preStop took ${Math.round(preStop)}ms (deregister --timeout 10s)`);
  assert.ok(preStop < replica.graceMs, 'preStop ended inside terminationGracePeriodSeconds');
  assert.ok(sigterm - preStop < 200, `SIGTERM ${Math.round(sigterm - preStop)}ms after preStop`);
  assert.ok(sigterm < replica.graceMs, 'SIGTERM well inside terminationGracePeriodSeconds');
  assert.equal(replica.at('SIGKILL'), undefined, 'the app shut down on SIGTERM, no SIGKILL');
  // After termination: the DELETE reached the CMDB but was never answered, so the record is still there, untouched.
  assert.deepEqual(historyOf(cmdb, replica), ['PUT 201', 'DELETE 0']);
  assert.deepEqual(recordOf(cmdb, replica), registered);
});

test('4b. a preStop that outlasts the grace period, and an app that ignores SIGTERM: SIGTERM at the grace end, SIGKILL 2 s later', async (t) => {
  const { cmdb, pod } = await cluster(t);
  const objects = setGracePeriod(render('base'), 5);
  const replica = pod({ name: 'shop-web-6f9c8d7b5-stuck', objects, entrypoint: app('0s', 'normal', '--ignore-sigterm') });
  await replica.start();
  assert.ok(recordOf(cmdb, replica), 'after postStart: registered');
  cmdb.injectFault({ hang: true, times: 1000 });
  await replica.terminate();
  const killing = replica.at('killing')!;
  const sigterm = replica.at('SIGTERM')! - killing;
  const sigkill = replica.at('SIGKILL')! - killing;
  assert.ok(sigterm >= 5000 && sigterm < 5500, `SIGTERM at ${Math.round(sigterm)}ms: the kubelet stops waiting for preStop at the grace end`);
  assert.ok(sigkill - sigterm >= 2000 && sigkill - sigterm < 2500, `SIGKILL ${Math.round(sigkill - sigterm)}ms after SIGTERM (minimumGracePeriodInSeconds)`);
  assert.equal(replica.events.find((event) => event.type === 'preStop:exited')?.detail, 'SIGKILL', 'the hook still running went with the container');
  assert.match(replica.logs('app'), /"event":"SIGTERM"/);
  assert.deepEqual(historyOf(cmdb, replica), ['PUT 201', 'DELETE 0'], 'the DELETE never landed');
  assert.ok(recordOf(cmdb, replica), 'after termination: the record is still there');
});

test('5. a liveness restart: preStop then postStart in the same pod (same UID); the record ends present and current', async (t) => {
  const { cmdb, pod } = await cluster(t);
  const replica = pod({ name: 'shop-web-6f9c8d7b5-lvns1', entrypoint: app('500ms') });
  await replica.start();
  const first = recordOf(cmdb, replica)!;
  await replica.restartContainer('app');
  const second = recordOf(cmdb, replica);
  assert.ok(second, 'registered again after the restart');
  assert.equal(second.id, first.id, 'same pod UID and container: same id');
  assert.ok(Date.parse(String(second.observedAt)) > Date.parse(String(first.observedAt)), 'the record is current');
  assert.deepEqual(historyOf(cmdb, replica), ['PUT 201', 'DELETE 204', 'PUT 201'], 'removed by preStop, created again by postStart');
});

test('6. StatefulSet: web-0\'s new incarnation registers before the old one\'s preStop runs late; the new record survives', async (t) => {
  const { cmdb, pod } = await cluster(t);
  const objects = render('variants/statefulset');
  const old = pod({ name: 'web-0', objects, workload: 'StatefulSet/web', ip: '10.244.7.7', entrypoint: app('0s') });
  await old.start();
  const next = pod({ name: 'web-0', objects, workload: 'StatefulSet/web', ip: '10.244.7.7', uid: randomUUID(), entrypoint: app('0s') });
  await next.start();
  assert.equal(cmdb.records.size, 2, 'same name and IP, two incarnations');
  await old.terminate();
  assert.deepEqual([...cmdb.records.keys()], [`${next.facts.uid}_app`]);
  assert.equal(recordOf(cmdb, next)?.state, 'ready');
});

test('7. a crash with no preStop: the record stays (a known gap a CMDB-side reaper closes); the restart in the same pod renews it', async (t) => {
  const { cmdb, pod } = await cluster(t);
  const replica = pod({ name: 'shop-web-6f9c8d7b5-oom01', entrypoint: app('0s') });
  await replica.start();
  const first = structuredClone(recordOf(cmdb, replica));
  assert.ok(first, 'after postStart: registered');
  await replica.crash('app');
  assert.equal(replica.at('preStop:started'), undefined, 'no preStop on a crash');
  assert.deepEqual(recordOf(cmdb, replica), first, 'after the crash: the record is still there, untouched');
  // restartPolicy Always: the kubelet starts the container again in the same pod, same UID (its back-off is skipped).
  await replica.startContainer('app');
  assert.deepEqual(replica.events.filter((event) => event.type === 'postStart:exited').map((event) => event.detail), ['0', '0'], 'postStart ran again');
  const renewed = recordOf(cmdb, replica);
  assert.ok(renewed, 'after the restart: still registered');
  assert.ok(Date.parse(String(renewed.observedAt)) > Date.parse(String(first.observedAt)), 'the record is current');
  assert.deepEqual([...cmdb.records.keys()], [first.id], 'still exactly one record');
  assert.deepEqual(historyOf(cmdb, replica), ['PUT 201', 'PUT 200'], 'the second PUT replaced the record the crash left');
});

test('7b. a kill with grace period 0: the kubelet skips preStop (PR #49449), SIGTERM at once; the record stays', async (t) => {
  const { cmdb, pod } = await cluster(t);
  const replica = pod({ name: 'shop-web-6f9c8d7b5-force', entrypoint: app('0s') });
  await replica.start();
  const registered = structuredClone(recordOf(cmdb, replica));
  assert.ok(registered, 'after postStart: registered');
  await replica.terminate(0);
  assert.equal(replica.at('preStop:started'), undefined, 'no preStop');
  assert.ok(replica.at('SIGTERM')! - replica.at('killing')! < 200, 'SIGTERM at once');
  assert.equal(replica.at('SIGKILL'), undefined, 'the app shut down on SIGTERM inside the 2 s minimum, no SIGKILL');
  assert.deepEqual(recordOf(cmdb, replica), registered, 'after the kill: the record is still there, untouched');
  assert.deepEqual(historyOf(cmdb, replica), ['PUT 201']);
});

test('8. the hook delivered twice, overlapping, for one container start: still one record', async (t) => {
  const { cmdb, pod } = await cluster(t);
  const replica = pod({ name: 'shop-web-6f9c8d7b5-twice', entrypoint: app('1s') });
  const starting = replica.start();
  // The second delivery starts while the first still waits for the app (ready after 1 s): both are in flight.
  await replica.until('postStart:started');
  const again = replica.runHook('app', 'postStart');
  assert.equal(cmdb.records.size, 0, 'while both wait for the app: nothing registered yet');
  const [, second] = await Promise.all([starting, again]);
  assert.equal(second.code, 0, second.stderr);
  const runs = replica.events.filter((event) => event.type.startsWith('postStart:')).map((event) => event.type);
  assert.deepEqual(runs, ['postStart:started', 'postStart:started', 'postStart:exited', 'postStart:exited'], 'the two runs overlapped');
  assert.deepEqual([...cmdb.records.keys()], [`${replica.facts.uid}_app`], 'exactly one record');
  assert.deepEqual(historyOf(cmdb, replica), ['PUT 201', 'PUT 200'], 'one PUT created it, the other replaced it');
});

test('injection variant: an app image without the agent; the init container installs it into the emptyDir the hooks call', async (t) => {
  const { cmdb, pod } = await cluster(t);
  const replica = pod({
    name: 'shop-web-5b7f9c6d4-injct',
    objects: render('variants/inject'),
    // The app image lacks the agent. The bundled agent still needs Node 26 on its PATH; the single executable
    // (CMDB_HOOK_TEST_BIN) needs nothing from the image, so then the image has no Node either.
    images: { 'shop/web:1.4.2': { root: withoutAgent, node: !process.env.CMDB_HOOK_TEST_BIN }, 'cmdb-hook:0.1.0': { root: withAgent, node: true } },
    entrypoint: app('500ms'),
  });
  await replica.start();
  assert.equal(replica.events.find((event) => event.type === 'init:exited')?.detail, '0');
  assert.ok(recordOf(cmdb, replica), 'registered through the injected binary');
  await replica.terminate();
  assert.equal(cmdb.records.size, 0);
});
