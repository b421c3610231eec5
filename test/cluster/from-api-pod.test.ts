// The pod layer from a Kubernetes API pod object: the same identity the hook reads from the Downward API, and the
// hook's per-pod flags read from the pod's cmdb-hook.io/ annotations, so both build the same record.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { identityFromApiPod, podSettings } from '../../src/pod/from-api-pod.ts';
import { buildRecord } from '../../src/pod/record.ts';
import { apiPod, hookRecord } from '../support/api-pods.ts';

const UID = '4f1c2a9e-0b7d-4c55-9a0e-2f6d1c3b8a71';
const withoutTime = <T extends { observedAt: string }>(record: T) => ({ ...record, observedAt: undefined });

test('the controller builds, from the API object, the record the hook builds from the Downward API, observedAt aside', () => {
  const pod = apiPod({
    name: 'checkout-5f7-abcde',
    uid: UID,
    ip: '10.244.3.17',
    ips: ['10.244.3.17', 'fd00::17'],
    node: 'node-7',
    hostIp: '192.0.2.7',
    labels: { 'app.kubernetes.io/name': 'checkout', quote: 'say "hi"', tier: 'web' },
    annotations: {
      'cmdb-hook.io/app': 'shop-checkout',
      'cmdb-hook.io/field.owner': 'team payments, EU',
      'cmdb-hook.io/field.tier': 'gold',
      note: 'line1\nline2',
      owner: 'Zoë 東京 \u200b',
    },
    containers: ['app', 'proxy'],
  });
  for (const container of ['app', 'proxy']) {
    const fromApi = buildRecord(identityFromApiPod(pod), { cluster: 'prod-eu-1', container, app: undefined, fields: {} }, 'ready');
    const fromHook = hookRecord(pod, 'prod-eu-1', container);
    assert.deepEqual(withoutTime(fromApi), withoutTime(fromHook), container);
  }
});

test('the kubelet\'s own config.* annotations are in neither record: they describe the kubelet, not the pod', () => {
  const pod = apiPod({ name: 'web-0', uid: UID, annotations: { 'kubernetes.io/config.mirror': 'abc', 'kubernetes.io/config.hash': 'abc', team: 'web' } });
  assert.deepEqual(identityFromApiPod(pod).annotations, { team: 'web' });
  // The hook's podinfo file carries config.seen and config.source, as a kubelet writes it.
  assert.deepEqual(hookRecord(apiPod({ name: 'web-0', uid: UID, annotations: { team: 'web' } }), 'c', 'app').annotations, { team: 'web' });
});

test('identity: every Downward API value from its place in the object, with the hook\'s fallbacks', () => {
  const rows = [
    { shape: { ip: '10.0.0.5', ips: ['10.0.0.5', 'fd00::5'] }, want: { ip: '10.0.0.5', ips: ['10.0.0.5', 'fd00::5'] } },
    { shape: { ip: '10.0.0.5', ips: [] }, want: { ip: '10.0.0.5', ips: ['10.0.0.5'] } },
    { shape: { phase: 'Pending' as const }, want: { ip: undefined, ips: [] } },
  ];
  for (const { shape, want } of rows) {
    const identity = identityFromApiPod(apiPod({ name: 'web-0', uid: UID, node: 'node-3', hostIp: '192.0.2.3', ...shape }));
    assert.deepEqual(
      identity,
      { name: 'web-0', uid: UID, namespace: 'shop', ...want, nodeName: 'node-3', hostIp: '192.0.2.3', labels: { 'app.kubernetes.io/name': 'shop' }, annotations: {}, notes: [] },
      JSON.stringify(shape),
    );
  }
});

test('settings: which containers, from the pod\'s cmdb-hook.io/containers annotation', () => {
  const rows: { annotations: Record<string, string>; want: ReturnType<typeof podSettings> }[] = [
    { annotations: {}, want: { containers: ['app', 'proxy'], problems: [] } },
    { annotations: { 'cmdb-hook.io/containers': 'proxy' }, want: { containers: ['proxy'], problems: [] } },
    { annotations: { 'cmdb-hook.io/containers': ' proxy , app,' }, want: { containers: ['app', 'proxy'], problems: [] } },
    {
      annotations: { 'cmdb-hook.io/containers': 'app,migrate,debugger' },
      want: {
        containers: ['app'],
        problems: ['cmdb-hook.io/containers names "migrate", which is no container of the pod', 'cmdb-hook.io/containers names "debugger", which is no container of the pod'],
      },
    },
    { annotations: { 'cmdb-hook.io/containers': '' }, want: { containers: [], problems: [] } },
  ];
  for (const { annotations, want } of rows) {
    // migrate is an init container and debugger an ephemeral one: never selected.
    const pod = apiPod({ name: 'web-0', uid: UID, containers: ['app', 'proxy'], initContainers: ['migrate'], ephemeralContainers: ['debugger'], annotations });
    assert.deepEqual(podSettings(pod), want, JSON.stringify(annotations));
  }
});

test('the app and the fields from the pod\'s annotations win over the settings, for hook and controller alike', () => {
  const rows: { annotations: Record<string, string>; want: { app: string | null; fields: Record<string, string> } }[] = [
    { annotations: {}, want: { app: 'flag-app', fields: { team: 'flag' } } },
    { annotations: { 'cmdb-hook.io/app': '  shop-web ' }, want: { app: 'shop-web', fields: { team: 'flag' } } },
    { annotations: { 'cmdb-hook.io/app': '  ' }, want: { app: 'flag-app', fields: { team: 'flag' } } },
    {
      annotations: { 'cmdb-hook.io/field.team': 'payments', 'cmdb-hook.io/field.cost.center': '42', 'cmdb-hook.io/field.': 'x', 'other.io/field.x': 'y' },
      want: { app: 'flag-app', fields: { team: 'payments', 'cost.center': '42' } },
    },
  ];
  for (const { annotations, want } of rows) {
    const pod = apiPod({ name: 'web-0', uid: UID, annotations });
    const record = buildRecord(identityFromApiPod(pod), { cluster: 'c', container: 'app', app: 'flag-app', fields: { team: 'flag' } }, 'ready');
    assert.deepEqual({ app: record.app, fields: record.fields }, want, JSON.stringify(annotations));
    const fromHook = hookRecord(pod, 'c', 'app', { app: 'flag-app', field: ['team=flag'] });
    assert.deepEqual({ app: fromHook.app, fields: fromHook.fields }, want, `hook: ${JSON.stringify(annotations)}`);
  }
});
