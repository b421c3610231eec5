// The harness must itself be right about the kubelet, or scenario tests prove nothing. These cases pin the parts
// the project's manifests do not use: envFrom prefixes and order, key refs, $(VAR) expansion, the Go %q format.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseGoQuotedMap } from '../../src/pod/go-quoted.ts';
import { expand, resolveEnv, type PodFacts } from '../support/kubelet/environment.ts';
import { formatGoQuotedMap, quoteGo } from '../support/kubelet/go-format.ts';
import type { KubeObject } from '../support/kubelet/render.ts';

const pod: PodFacts = {
  name: 'web-0', namespace: 'shop', uid: 'u-1', ips: ['10.0.0.5', 'fd00::5'], nodeName: 'node-a', hostIps: ['192.0.2.1'],
  serviceAccountName: 'sa', labels: { app: 'web' }, annotations: { 'team/owner': 'payments' },
};
const objects: KubeObject[] = [
  { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'settings' }, data: { URL: 'http://cmdb', LEVEL: 'info' } },
  { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'creds' }, data: { token: Buffer.from('s3cret').toString('base64') }, stringData: { extra: 'plain' } },
];

test('env: envFrom first (with prefix), then env in order; later entries win; valueFrom reads the manifests', () => {
  const env = resolveEnv({
    name: 'app', image: 'x',
    envFrom: [{ configMapRef: { name: 'settings' } }, { prefix: 'S_', secretRef: { name: 'creds' } }, { configMapRef: { name: 'missing', optional: true } }],
    env: [
      { name: 'LEVEL', value: 'debug' },
      { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 'creds', key: 'token' } } },
      { name: 'CM', valueFrom: { configMapKeyRef: { name: 'settings', key: 'URL' } } },
      { name: 'GONE', valueFrom: { configMapKeyRef: { name: 'settings', key: 'nope', optional: true } } },
      { name: 'IPS', valueFrom: { fieldRef: { fieldPath: 'status.podIPs' } } },
      { name: 'OWNER', valueFrom: { fieldRef: { fieldPath: "metadata.annotations['team/owner']" } } },
      { name: 'TARGET', value: '$(URL)/pods/$(POD)/$(UNDEFINED)/$$(URL)' },
    ],
  }, pod, objects);
  assert.deepEqual(env, {
    URL: 'http://cmdb', LEVEL: 'debug', S_token: 's3cret', S_extra: 'plain', TOKEN: 's3cret', CM: 'http://cmdb',
    IPS: '10.0.0.5,fd00::5', OWNER: 'payments', TARGET: 'http://cmdb/pods/$(POD)/$(UNDEFINED)/$(URL)',
  });
});

test('env: a missing required reference is an error, like the kubelet refusing to start the container', () => {
  assert.throws(() => resolveEnv({ name: 'app', image: 'x', env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'creds', key: 'nope' } } }] }, pod, objects), /creds has no key nope/);
  assert.throws(() => resolveEnv({ name: 'app', image: 'x', envFrom: [{ configMapRef: { name: 'missing' } }] }, pod, objects), /no ConfigMap missing/);
  assert.throws(() => resolveEnv({ name: 'app', image: 'x', env: [{ name: 'A', valueFrom: { fieldRef: { fieldPath: 'spec.nope' } } }] }, pod, objects), /not a Downward API env field/);
});

test('$(VAR) expansion only sees variables defined before', () => {
  assert.equal(expand('$(A)-$(B)', { A: '1' }), '1-$(B)');
  assert.equal(expand('$$(A) $$ $(A)', { A: '1' }), '$(A) $ 1');
});

test('downwardAPI files: what Go\'s %q writes, parsed back by the agent to the same strings', () => {
  // Expected texts as strconv.Quote produces them.
  assert.equal(quoteGo('say "hi"\n'), '"say \\"hi\\"\\n"');
  assert.equal(quoteGo('tab\there\\'), '"tab\\there\\\\"');
  assert.equal(quoteGo('café 東京 🚀'), '"café 東京 🚀"');
  assert.equal(quoteGo('\u0000\u007f\u200b\u{e0001}'), '"\\x00\\x7f\\u200b\\U000e0001"');
  const map = { b: 'two\nlines', a: 'x="y"', 'k8s.io/z': 'Zoë\u200b' };
  const file = formatGoQuotedMap(map);
  assert.equal(file, 'a="x=\\"y\\""\nb="two\\nlines"\nk8s.io/z="Zoë\\u200b"', 'keys sorted, no trailing newline');
  assert.deepEqual(parseGoQuotedMap(file), { ok: true, map });
});
