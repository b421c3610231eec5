// Which pods register themselves (the controller then leaves their creates to the hook): an exec postStart that runs
// cmdb-hook, or a native sidecar that is cmdb-hook's, by its command or by its image, as the pod is kept slim.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { slimPod } from '../../src/cluster/kube/slim-pod.ts';
import type { Pod } from '../../src/cluster/kube/pod-cache.ts';
import { registersItself } from '../../src/cluster/registers-itself.ts';

const pod = (spec: Record<string, unknown>): Pod => slimPod({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web-0', namespace: 'shop', uid: 'u-1' }, spec: { containers: [{ name: 'app', image: 'shop/web:1' }], ...spec } });
const sidecar = (container: Record<string, unknown>) => pod({ initContainers: [{ name: 'cmdb-hook', restartPolicy: 'Always', ...container }] });

test('the sidecar variant (the image\'s entrypoint, args starting with sidecar) registers itself, whatever the registry and tag', () => {
  for (const image of ['cmdb-hook:0.1.0', 'registry.local:5000/ops/cmdb-hook:0.1.0', 'ops/cmdb-hook@sha256:0123abcd']) {
    assert.equal(registersItself(sidecar({ image, args: ['sidecar', '--listen', ':9901'] })), true, image);
  }
});

test('a sidecar that names the agent in its command registers itself; other sidecars and plain init containers do not', () => {
  assert.equal(registersItself(sidecar({ image: 'busybox', command: ['/opt/cmdb-hook/cmdb-hook', 'sidecar'] })), true);
  assert.equal(registersItself(sidecar({ image: 'envoyproxy/envoy:v1.30', args: ['sidecar'] })), false);
  assert.equal(registersItself(sidecar({ image: 'ops/cmdb-hook-exporter:1' })), false);
  assert.equal(registersItself(pod({ initContainers: [{ name: 'copy', image: 'cmdb-hook:0.1.0', args: ['install', '/agent'] }] })), false, 'the copying init container runs once and registers nothing');
});

test('an exec postStart running cmdb-hook registers itself', () => {
  assert.equal(registersItself(pod({ containers: [{ name: 'app', image: 'shop/web:1', lifecycle: { postStart: { exec: { command: ['/opt/cmdb-hook/cmdb-hook', 'register'] } } } }] })), true);
  assert.equal(registersItself(pod({})), false);
});
