// The kubelet harness (test/support/kubelet/) must itself be right about the kubelet, or the scenarios prove nothing.
// These cases pin its rules for native sidecars, probes, the Ready condition, httpGet hooks and image volumes with
// small pods of listeners (test/support/kubelet/listener.ts), each rule against the kubernetes source the harness
// cites for it.
import assert from 'node:assert/strict';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test, type TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ContainerSpec } from '../support/kubelet/environment.ts';
import type { ImageVolumeRuntime } from '../support/kubelet/image-volume.ts';
import { KUBE_VERSION } from '../support/kubelet/kubelet-http.ts';
import { NODE_ADDRESS, Pod } from '../support/kubelet/pod.ts';

const LISTENER = new URL('../support/kubelet/listener.ts', import.meta.url).pathname;
const bare = mkdtempSync(join(tmpdir(), 'harness-image-'));
// An image whose files sit under opt/tool, as the cmdb-hook image keeps its own under opt/cmdb-hook.
const tool = mkdtempSync(join(tmpdir(), 'harness-tool-'));
mkdirSync(join(tool, 'opt', 'tool'), { recursive: true });
writeFileSync(join(tool, 'opt', 'tool', 'write.sh'), '#!/bin/sh\necho x > "$1"\n');
chmodSync(join(tool, 'opt', 'tool', 'write.sh'), 0o755);
after(() => [bare, tool].forEach((dir) => rmSync(dir, { recursive: true, force: true })));

const listener = (name: string, port: number, extra: Partial<ContainerSpec> = {}): ContainerSpec => ({ name, image: 'listener', ports: [{ containerPort: port }], ...extra });
const sidecar = (name: string, port: number, extra: Partial<ContainerSpec> = {}) => listener(name, port, { restartPolicy: 'Always', ...extra });
const probe = (path: string, extra: Record<string, number> = {}) => ({ httpGet: { path, port: 0 }, periodSeconds: 1, ...extra });

function pod(t: TestContext, spec: Record<string, unknown>, listenAfter: Record<string, number> = {}, runtime?: ImageVolumeRuntime): Pod {
  // Each probe's port is its container's first port.
  for (const container of [...((spec.initContainers as ContainerSpec[] | undefined) ?? []), ...(spec.containers as ContainerSpec[])]) {
    for (const kind of ['startupProbe', 'readinessProbe'] as const) {
      const action = container[kind]?.httpGet;
      if (action && action.port === 0) action.port = container.ports?.[0]?.containerPort ?? 0;
    }
  }
  const created = new Pod({
    objects: [{ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'probe' }, spec: { template: { metadata: { labels: { app: 'probe' } }, spec } } }],
    workload: 'Deployment/probe',
    name: 'probe-6f9c8d7b5-abcde',
    ip: '10.244.9.9',
    images: { listener: { root: bare, node: false }, 'tool:1': { root: tool, node: false } },
    entrypoint: (container, ports) => [process.execPath, LISTENER, '--port', String(ports[container.ports?.[0]?.containerPort ?? 0]), '--listen-after', String(listenAfter[container.name] ?? 0)],
    ...(runtime ? { runtime } : {}),
  });
  t.after(() => created.cleanup());
  return created;
}

/** The requests a container's listener logged. */
const requests = (pod: Pod, name: string) =>
  pod.logs(name).split('\n').filter((line) => line.includes('"event":"request"')).map((line) => JSON.parse(line) as { path: string; from: string; userAgent: string });

test('native sidecars start in order, each once its startupProbe passed; the app container after them (computeInitContainerActions)', async (t) => {
  const started = pod(t, {
    initContainers: [sidecar('s1', 9001, { startupProbe: probe('/ok', { failureThreshold: 10 }) }), sidecar('s2', 9002, { startupProbe: probe('/ok', { failureThreshold: 10 }) })],
    containers: [listener('app', 8080)],
  }, { s1: 1500 });
  await started.start();
  assert.ok(started.at('started', 's2')! >= started.at('startup:success', 's1')!, 's2 waited for s1\'s startupProbe');
  assert.ok(started.at('startup:success', 's1')! - started.at('started', 's1')! >= 1500, 's1 was not started while it did not listen');
  assert.ok(started.at('started', 'app')! >= started.at('startup:success', 's2')!, 'the app container waited for s2');
  assert.deepEqual(new Set(requests(started, 's1').map((request) => `${request.from} ${request.userAgent}`)), new Set([`${NODE_ADDRESS} kube-probe/${KUBE_VERSION}`]), 'probes come from the node');
});

test('a native sidecar\'s readiness counts toward the pod\'s Ready condition (GenerateContainersReadyCondition)', async (t) => {
  const unready = pod(t, { initContainers: [sidecar('s1', 9001, { readinessProbe: probe('/fail', { failureThreshold: 1 }) })], containers: [listener('app', 8080)] });
  const ready = pod(t, { initContainers: [sidecar('s1', 9003, { readinessProbe: probe('/ok') })], containers: [listener('app', 8081)] });
  await Promise.all([unready.start(), ready.start()]);
  await ready.until('Ready', 'pod');
  await sleep(2500);
  assert.equal(unready.at('Ready', 'pod'), undefined, 'the app has no readinessProbe and runs: only the sidecar keeps the pod unready');
  assert.equal(unready.ready, false);
  assert.ok(requests(unready, 's1').length >= 2, 'probed every periodSeconds');
});

test('termination: the app containers first, then the sidecars in reverse order; a sidecar\'s preStop at once; an httpGet preStop\'s status is ignored', async (t) => {
  const stopping = pod(t, {
    initContainers: [sidecar('s1', 9001, { readinessProbe: probe('/ok'), lifecycle: { preStop: { httpGet: { path: '/ok', port: 9001 } } } }), sidecar('s2', 9002, { readinessProbe: probe('/ok') })],
    containers: [listener('app', 8080, { readinessProbe: probe('/ok'), lifecycle: { preStop: { httpGet: { path: '/fail', port: 8080 } } } })],
  });
  await stopping.start();
  await stopping.until('Ready', 'pod'); // every listener is up
  await stopping.terminate();
  const at = (type: string, container: string) => stopping.at(type, container)!;
  assert.ok(at('preStop:exited', 's1') <= at('exited', 'app'), 's1\'s preStop ran at once, while the app still ran');
  assert.ok(at('SIGTERM', 's2') >= at('exited', 'app'), 's2 after the app');
  assert.ok(at('SIGTERM', 's1') >= at('exited', 's2'), 's1 after s2, which was declared after it');
  assert.equal(stopping.events.find((event) => event.container === 'app' && event.type === 'preStop:exited')?.detail, '500');
  assert.ok(at('SIGTERM', 'app') - at('preStop:exited', 'app') < 200, 'a 500 is no failure: SIGTERM at once');
  const hooks = requests(stopping, 'app').filter((request) => request.path === '/fail');
  assert.deepEqual(hooks.map((request) => `${request.from} ${request.userAgent}`), [`${NODE_ADDRESS} kube-lifecycle/${KUBE_VERSION}`]);
});

test('an httpGet postStart: a 500 lets the container run, a refused connection kills it (FailedPostStartHook)', async (t) => {
  // The kubelet sends postStart right after the process starts: to a port already up, a sidecar's.
  const answered = pod(t, { initContainers: [sidecar('s1', 9001, { startupProbe: probe('/ok') })], containers: [listener('app', 8080, { lifecycle: { postStart: { httpGet: { path: '/fail', port: 9001 } } } })] });
  const refused = pod(t, { containers: [listener('app', 8081, { lifecycle: { postStart: { httpGet: { path: '/ok', port: 8081 } } } })] }, { app: 3000 });
  await Promise.all([answered.start(), refused.start()]);
  assert.ok(answered.at('running', 'app'));
  assert.match(refused.events.find((event) => event.type === 'FailedPostStartHook')?.detail ?? '', /ECONNREFUSED/);
  assert.equal(refused.at('running', 'app'), undefined);
});

test('an httpGet preStop that never answers is bounded by the grace period (executePreStopHook)', async (t) => {
  const hanging = pod(t, { terminationGracePeriodSeconds: 3, containers: [listener('app', 8080, { readinessProbe: probe('/ok'), lifecycle: { preStop: { httpGet: { path: '/hang', port: 8080 } } } })] });
  await hanging.start();
  await hanging.until('Ready', 'pod');
  await hanging.terminate();
  const sigterm = hanging.at('SIGTERM', 'app')! - hanging.at('killing', 'app')!;
  assert.ok(sigterm >= 3000 && sigterm < 3500, `SIGTERM ${Math.round(sigterm)}ms after the kill began`);
});

const toolPod = (t: TestContext, runtime?: ImageVolumeRuntime) =>
  pod(t, {
    containers: [listener('app', 8080, { volumeMounts: [{ name: 'tool', mountPath: '/opt/tool', subPath: 'opt/tool', readOnly: true }], lifecycle: { postStart: { exec: { command: ['/opt/tool/write.sh', '/opt/tool/added'] } } } })],
    volumes: [{ name: 'tool', image: { reference: 'tool:1' } }],
  }, {}, runtime);

test('image volumes: the subPath picks a folder of the image\'s root; programs run from it; a write into it is caught', async (t) => {
  const mounted = toolPod(t);
  await mounted.start();
  assert.equal(mounted.events.find((event) => event.type === 'postStart:started')?.detail, join(tool, 'opt', 'tool', 'write.sh'));
  assert.ok(mounted.at('running', 'app'), 'executable: the hook ran');
  assert.deepEqual(mounted.imageVolumeChanges(), ['tool:opt/tool/added'], 'a write a read-only mount would refuse');
  rmSync(join(tool, 'opt', 'tool', 'added'));
});

test('image volumes on other runtimes: subPath ignored shows the image\'s root; a noexec mount refuses the exec', async (t) => {
  const ignored = toolPod(t, { subPath: false, noexec: false });
  const noexec = toolPod(t, { subPath: true, noexec: true });
  await Promise.all([ignored.start(), noexec.start()]);
  assert.equal(ignored.events.find((event) => event.type === 'postStart:started')?.detail, join(tool, 'write.sh'));
  for (const failed of [ignored, noexec]) assert.ok(failed.at('FailedPostStartHook', 'app'), 'the hook could not start');
  assert.deepEqual([...ignored.imageVolumeChanges(), ...noexec.imageVolumeChanges()], []);
});
