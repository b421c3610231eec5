// The sidecar variant (manifests/variants/sidecar), run by the kubelet-faithful harness (test/support/kubelet/pod.ts)
// against the sandbox CMDB: `cmdb-hook sidecar` from the cmdb-hook image's own entrypoint as a native sidecar, its
// probes sent by the "kubelet" from the node's address (HOST_IP 127.0.0.3) to the pod (127.0.0.1), the app
// container's preStop an httpGet. Each scenario asserts the CMDB's state over time against the pod's Ready condition
// and the kubelet's timeline.
import assert from 'node:assert/strict';
import http from 'node:http';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerSpec } from '../support/kubelet/environment.ts';
import { OTHER_POD_ADDRESS, POD_ADDRESS, type Pod } from '../support/kubelet/pod.ts';
import { render, type KubeObject } from '../support/kubelet/render.ts';
import { AGENT_ENTRYPOINT, app, cluster, historyOf, imageFolders, readyAt, recordOf, writesOf } from '../support/kubelet/scenario.ts';

const SIDECAR = 'cmdb-hook';
const { withAgent, bare } = await imageFolders();
// The app image has neither the agent nor Node: nothing of cmdb-hook runs in the app container.
const images = { 'shop/web:1.4.2': { root: bare, node: false }, 'cmdb-hook:0.1.0': { root: withAgent, node: true, entrypoint: AGENT_ENTRYPOINT } };

/** The test's own overlay, as a user's kustomize patch would do: sidecar flags set (replaced or added). */
function sidecarFlags(flags: Record<string, string | true>): KubeObject[] {
  const objects = render('variants/sidecar');
  for (const object of objects) {
    const spec = (object.spec as { template?: { spec: { initContainers?: ContainerSpec[] } } } | undefined)?.template?.spec;
    for (const container of spec?.initContainers ?? []) {
      const args = container.args ?? [];
      for (const [flag, value] of Object.entries(flags)) {
        const at = args.indexOf(`--${flag}`);
        if (value === true) args.push(`--${flag}`);
        else if (at >= 0) args[at + 1] = value;
        else args.push(`--${flag}`, value);
      }
    }
  }
  return objects;
}

/** A GET to the pod's port from another address of the cluster (the kubelet's own requests are the harness's). */
function getFrom(localAddress: string, port: number, path: string): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: POD_ADDRESS, port, path, localAddress, agent: false }, (response) => (response.resume(), resolve(response.statusCode ?? 0))).on('error', reject);
  });
}

/** The app container's events that are hooks: every one must be the kubelet's httpGet, never a process. */
const appHooks = (pod: Pod) => pod.events.filter((event) => event.container === 'app' && /^(postStart|preStop):started$/.test(event.type)).map((event) => `${event.type} ${event.detail}`);

test('1. rollout: the record is written only after the app is ready, and the pod is Ready only after that', async (t) => {
  const { cmdb, pod } = await cluster(t, images);
  const replica = pod({ name: 'shop-web-6f9c8d7b5-sdc01', objects: render('variants/sidecar'), entrypoint: app('2s') });
  await replica.start();
  assert.ok(replica.at('container-started', SIDECAR)! <= replica.at('started', 'app')!, 'the app container started after the sidecar had started');
  const ready = await replica.until('Ready', 'pod');
  const [put] = writesOf(cmdb, replica);
  assert.ok(put, 'registered');
  assert.ok(put.wallAt >= readyAt(replica)!, 'the PUT came after the app was ready');
  assert.ok(ready >= put.at, 'the pod turned Ready after the record was written');
  assert.equal(recordOf(cmdb, replica)?.state, 'ready');
  assert.deepEqual(recordOf(cmdb, replica)?.pod, { name: replica.facts.name, uid: replica.facts.uid, ip: replica.facts.ips[0], ips: replica.facts.ips });
  assert.equal(recordOf(cmdb, replica)?.container, 'app', 'the app container\'s record, written by the sidecar');
  assert.deepEqual(appHooks(replica), [], 'no hook ran in the app container while it started');
});

for (const strict of [false, true]) {
  test(`2. the CMDB down${strict ? ', --strict' : ''}: ${strict ? 'the pod never turns Ready' : 'the pod turns Ready once the register deadline has passed'}`, async (t) => {
    const { cmdb, pod } = await cluster(t, images);
    cmdb.injectFault({ status: 503, times: 100_000 });
    // A deadline long enough for the app to be ready well before it, even on a busy machine: the CMDB is tried.
    const objects = sidecarFlags(strict ? { timeout: '6s', strict: true } : { timeout: '6s' });
    const replica = pod({ name: `shop-web-6f9c8d7b5-dwn${strict ? 's' : 'o'}1`, objects, entrypoint: app('0s') });
    await replica.start();
    const started = replica.at('started', SIDECAR)!;
    if (!strict) {
      const ready = await replica.until('Ready', 'pod');
      assert.ok(ready - started >= 6000, `Ready ${Math.round(ready - started)}ms after the sidecar started: not before the 6s deadline`);
    } else {
      // Long enough for the app to be ready and for three of the sidecar's readiness probes after the deadline.
      await replica.until('readiness:success', 'app');
      await sleep(Math.max(0, started + 6000 + 3 * 2000 - performance.now()));
      assert.equal(replica.at('Ready', 'pod'), undefined, 'the app is ready, the pod is not');
      assert.match(replica.logs(SIDECAR), /--strict: \/readyz stays 503/);
    }
    assert.ok(writesOf(cmdb, replica).length >= 1, `the sidecar did try the CMDB; its log: ${replica.logs(SIDECAR)}`);
    assert.equal(cmdb.records.size, 0);
  });
}

test('3. scale-down: the record is gone before the app container gets SIGTERM; the app container ran no process; the sidecar stops last', async (t) => {
  const { cmdb, pod } = await cluster(t, images);
  const replica = pod({ name: 'shop-web-6f9c8d7b5-sdc03', objects: render('variants/sidecar'), entrypoint: app('0s') });
  await replica.start();
  await replica.until('Ready', 'pod');
  await replica.terminate();
  const deleted = writesOf(cmdb, replica).find((write) => write.method === 'DELETE');
  assert.ok(deleted && deleted.at <= replica.at('SIGTERM', 'app')!, 'deregistered before the app\'s SIGTERM');
  assert.deepEqual(appHooks(replica), ['preStop:started GET /deregister'], 'the app container\'s only hook: the kubelet\'s GET');
  assert.equal(replica.events.find((event) => event.container === 'app' && event.type === 'preStop:exited')?.detail, '200');
  assert.ok(replica.at('SIGTERM', SIDECAR)! >= replica.at('exited', 'app')!, 'the sidecar got SIGTERM only after the app had exited');
  assert.equal(replica.events.find((event) => event.container === SIDECAR && event.type === 'exited')?.detail, '0');
  assert.deepEqual(historyOf(cmdb, replica), ['PUT 201', 'DELETE 204'], 'one delete: the SIGTERM after /deregister wrote nothing');
  assert.equal(cmdb.records.size, 0);
});

test('4. the sidecar killed and restarted while the app runs: one record, no delete, at most one re-assertion of it', async (t) => {
  const { cmdb, pod } = await cluster(t, images);
  const replica = pod({ name: 'shop-web-6f9c8d7b5-sdc04', objects: render('variants/sidecar'), entrypoint: app('0s') });
  await replica.start();
  await replica.until('Ready', 'pod');
  const first = structuredClone(recordOf(cmdb, replica));
  await replica.crash(SIDECAR);
  assert.ok(replica.at('NotReady', 'pod')! >= replica.at('crashed', SIDECAR)!, 'the pod left Ready with its sidecar');
  await replica.startContainer(SIDECAR);
  await replica.until('Ready', 'pod', replica.at('crashed', SIDECAR));
  assert.deepEqual([...cmdb.records.keys()], [first?.id], 'still exactly one record, the same');
  const history = historyOf(cmdb, replica);
  assert.ok(history.length <= 2 && history.every((entry, index) => entry === ['PUT 201', 'PUT 200'][index]), `writes: ${history.join(', ')}`);
});

test('5. GET /deregister from another pod\'s address: 403, the record stays', async (t) => {
  const { cmdb, pod } = await cluster(t, images);
  const replica = pod({ name: 'shop-web-6f9c8d7b5-sdc05', objects: render('variants/sidecar'), entrypoint: app('0s') });
  await replica.start();
  await replica.until('Ready', 'pod');
  assert.equal(await getFrom(OTHER_POD_ADDRESS, replica.port(9901), '/deregister'), 403);
  assert.match(replica.logs(SIDECAR), /GET \/deregister refused: 127\.0\.0\.2 is not a trusted source/);
  assert.equal(recordOf(cmdb, replica)?.state, 'ready', 'the record stays');
  assert.deepEqual(historyOf(cmdb, replica), ['PUT 201']);
});

test('6. heartbeat: a record removed by hand is back within one interval; each interval stays within its jitter', async (t) => {
  const { cmdb, pod } = await cluster(t, images);
  const replica = pod({ name: 'shop-web-6f9c8d7b5-sdc06', objects: sidecarFlags({ heartbeat: '2s' }), entrypoint: app('0s') });
  await replica.start();
  await replica.until('Ready', 'pod');
  const id = recordOf(cmdb, replica)?.id ?? '';
  cmdb.records.delete(id);
  const removed = performance.now();
  while (!cmdb.records.has(id) && performance.now() - removed < 5000) await sleep(20);
  const back = performance.now() - removed;
  assert.ok(cmdb.records.has(id) && back <= 2200 + 500, `back after ${Math.round(back)}ms (--heartbeat 2s, jitter up to 10%)`);
  await sleep(7000);
  const puts = writesOf(cmdb, replica).filter((write) => write.method === 'PUT').map((write) => write.at);
  const intervals = puts.slice(1).map((at, index) => at - (puts[index] ?? 0));
  assert.ok(intervals.length >= 4, `${intervals.length} beats`);
  // Each beat is due one jittered interval (1.8 s to 2.2 s) after the previous one was due: measured at the CMDB.
  for (const interval of intervals) assert.ok(interval >= 1800 - 250 && interval <= 2200 + 250, `an interval of ${Math.round(interval)}ms`);
  assert.ok(new Set(intervals.map((interval) => Math.round(interval / 10))).size > 1, `the intervals vary: ${intervals.map(Math.round).join(', ')}`);
});
