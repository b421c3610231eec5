// Scenario 12 of the controller: --readiness-gate on pods whose spec lists the readiness gate cmdb-hook.io/registered.
// The condition turns True (CMDBRegistered) once the pod's record is written, and `kubectl wait
// --for=condition=cmdb-hook.io/registered` returns; with the CMDB refusing, it turns True with CMDBUnavailable after
// --gate-timeout from the containers being ready (fail open), and stays True once the record lands. Other conditions
// are never touched. A patch for a pod made again under the same name (another UID) is refused.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { SELECTED, startScene, untilReady, waitFor, type Scene } from '../support/controller/controller-run.ts';
import { turnReady } from '../support/controller/pod-hooks.ts';
import { kubectlStream, requireKubectl } from '../support/kube-api/kubectl.ts';
import type { KubeObject } from '../support/kube-api/resources.ts';

const GATE = 'cmdb-hook.io/registered';
const GATE_TIMEOUT_MS = 2000;

requireKubectl();
let scene: Scene;
before(async () => {
  scene = await startScene();
});
after(() => scene.close());

interface Condition {
  type: string;
  status: string;
  reason?: string;
}
const conditionsOf = (pod: KubeObject | undefined) => ((pod?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []);
const gateOf = (name: string) => conditionsOf(scene.api.pod('shop', name)).find((condition) => condition.type === GATE);
const others = (pod: KubeObject | undefined) => conditionsOf(pod).filter((condition) => condition.type !== GATE);
const gated = (name: string, ready: boolean) => ({
  name,
  namespace: 'shop',
  labels: { app: 'web', ...SELECTED },
  ready,
  readinessGates: [GATE],
  conditions: [{ type: 'example.com/load-balancer', status: 'True' as const, reason: 'Attached' }],
});

test('readiness gate: True once registered (kubectl wait returns), True with CMDBUnavailable after the gate timeout, other conditions untouched, a recreated pod left alone', async (t) => {
  const home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
  const waiting = kubectlStream(['wait', '--for=condition=cmdb-hook.io/registered', 'pod/web-a', '-n', 'shop', '--timeout=30s'], { home, kubeconfig: scene.api.writeKubeconfig(home) });
  const before = scene.api.addPod(gated('web-a', true));
  const controller = scene.start(['--readiness-gate', '--gate-timeout', '2s', '--leader-elect=false']);
  assert.ok(await untilReady(controller), controller.stderr());

  const waited = await waiting.exited;
  assert.equal(waited.code, 0, waited.stderr);
  assert.match(waited.stdout, /pod\/web-a condition met/);
  assert.equal(scene.cmdb.records.size, 1, 'the condition follows the record');
  assert.deepEqual({ ...gateOf('web-a') }, { ...gateOf('web-a'), status: 'True', reason: 'CMDBRegistered' });
  assert.deepEqual(others(scene.api.pod('shop', 'web-a')), others(before), 'every other condition as it was');

  // The CMDB refuses every write now; a new pod's containers turn ready and its gate opens after --gate-timeout.
  scene.cmdb.injectFault({ status: 503, method: 'PUT', times: 1_000_000 });
  scene.api.addPod(gated('web-b', false));
  const readyAt = Date.now();
  const ready = turnReady(scene.api, 'shop', 'web-b');
  assert.ok(await waitFor(() => gateOf('web-b')?.status === 'True', GATE_TIMEOUT_MS + 5000), JSON.stringify(gateOf('web-b')));
  const openedMs = Date.now() - readyAt;
  assert.equal(gateOf('web-b')?.reason, 'CMDBUnavailable');
  // ContainersReady's lastTransitionTime has whole seconds: the deadline may count from up to 1 s earlier.
  assert.ok(openedMs >= GATE_TIMEOUT_MS - 1000, `opened ${openedMs} ms after the containers turned ready`);
  assert.deepEqual(others(scene.api.pod('shop', 'web-b')), others(ready), 'every other condition as the kubelet left it');
  assert.equal(scene.cmdb.records.size, 1);

  // web-c turns ready (the controller tries its record: it saw it ready), then, unseen by the controller (its watch
  // silenced), is deleted and made again under its name. The gate's timer fires for the uid it knows; the patch
  // carries that uid and the server refuses it: the newcomer never gets its predecessor's condition.
  scene.api.addPod(gated('web-c', false));
  const first = turnReady(scene.api, 'shop', 'web-c');
  assert.ok(await waitFor(() => scene.cmdb.requests.some((request) => request.method === 'PUT' && request.path.endsWith(`/${first.metadata.uid ?? ''}_app`)), 5000), 'the controller saw web-c ready');
  scene.api.watches.stall();
  scene.api.deletePod('shop', 'web-c', 0);
  const again = scene.api.addPod(gated('web-c', false));
  const refused = () => scene.api.requests.find((request) => request.method === 'PATCH' && request.path === '/api/v1/namespaces/shop/pods/web-c/status');
  assert.ok(await waitFor(() => (refused()?.status ?? 0) > 0, GATE_TIMEOUT_MS + 5000), 'the gate patched web-c');
  assert.equal(refused()?.status, 422, 'a patch carrying the old uid is refused');
  assert.equal(gateOf('web-c'), undefined, 'the new web-c has no gate condition');
  assert.equal(scene.api.pod('shop', 'web-c')?.metadata.uid, again.metadata.uid);
  assert.ok(await waitFor(() => controller.logs().some((line) => String(line.msg).includes(`web-c is no longer uid ${first.metadata.uid ?? ''}`)), 2000), controller.stderr());
  scene.api.watches.drop('cut');

  // The CMDB is back: the record lands and the gate stays True (never patched again).
  scene.cmdb.clearFaults();
  assert.ok(await waitFor(() => scene.cmdb.records.size === 2, 40_000), 'web-b registered once the CMDB answers');
  assert.equal(gateOf('web-b')?.status, 'True');
  assert.equal(gateOf('web-b')?.reason, 'CMDBUnavailable', 'True is final: no patch after it');
  const metrics = (await controller.get('/metrics')).body;
  assert.match(metrics, /^cmdb_hook_controller_readiness_gates_set_total\{reason="CMDBRegistered"\} 1$/m);
  assert.match(metrics, /^cmdb_hook_controller_readiness_gates_set_total\{reason="CMDBUnavailable"\} 1$/m);
  // The new web-c arrives once the watch is back: its gate is pending (not ready yet), nothing patched for it.
  let latest = metrics;
  for (const until = performance.now() + 5000; !/^cmdb_hook_controller_readiness_gates_pending 1$/m.test(latest) && performance.now() < until; ) {
    await sleep(50);
    latest = (await controller.get('/metrics')).body;
  }
  assert.match(latest, /^cmdb_hook_controller_readiness_gates_pending 1$/m, 'the new web-c, not ready yet');
  const statusPatches = scene.api.requests.filter((request) => request.method === 'PATCH' && request.path.endsWith('/status'));
  assert.deepEqual(statusPatches.map((request) => `${request.path.split('/')[6] ?? ''} ${request.status}`), ['web-a 200', 'web-b 200', 'web-c 422'], 'one patch per pod');
  t.diagnostic(`the gate opened ${openedMs} ms after the containers turned ready (--gate-timeout 2s)`);
  assert.equal(await controller.stop(), 0);
});
