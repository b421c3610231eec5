// Scenario 12 of the controller: --readiness-gate on pods whose spec lists the readiness gate cmdb-hook.io/registered.
// The condition turns True (CMDBRegistered) once the pod's record is written, and `kubectl wait
// --for=condition=cmdb-hook.io/registered` returns; with the CMDB refusing, it turns True with CMDBUnavailable after
// --gate-timeout from the containers being ready (fail open), and stays True once the record lands. Other conditions
// are never touched.
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
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

test('readiness gate: True once registered (kubectl wait returns), True with CMDBUnavailable after the gate timeout, other conditions untouched', async (t) => {
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

  // The CMDB is back: the record lands and the gate stays True (never patched again).
  scene.cmdb.clearFaults();
  assert.ok(await waitFor(() => scene.cmdb.records.size === 2, 40_000), 'web-b registered once the CMDB answers');
  assert.equal(gateOf('web-b')?.status, 'True');
  assert.equal(gateOf('web-b')?.reason, 'CMDBUnavailable', 'True is final: no patch after it');
  const metrics = (await controller.get('/metrics')).body;
  assert.match(metrics, /^cmdb_hook_controller_readiness_gates_set_total\{reason="CMDBRegistered"\} 1$/m);
  assert.match(metrics, /^cmdb_hook_controller_readiness_gates_set_total\{reason="CMDBUnavailable"\} 1$/m);
  assert.match(metrics, /^cmdb_hook_controller_readiness_gates_pending 0$/m);
  const statusPatches = scene.api.requests.filter((request) => request.method === 'PATCH' && request.path.endsWith('/status'));
  assert.equal(statusPatches.length, 2, 'one patch per pod');
  t.diagnostic(`the gate opened ${openedMs} ms after the containers turned ready (--gate-timeout 2s)`);
  assert.equal(await controller.stop(), 0);
});
