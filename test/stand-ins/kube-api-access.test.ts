// The Kubernetes API stand-in's front door over HTTPS: authentication, forbidden namespaces, injected faults, the
// request log, discovery, selector parsing, and the realism of its generated pods.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { Lease } from 'kubernetes-models/coordination.k8s.io/v1';
import { Pod } from 'kubernetes-models/v1';
import { makeCertificates } from '../support/certificates.ts';
import { call, type Connection, type KubeList } from '../support/kube-api/http-client.ts';
import { DEFAULT_USER, startKubeApi, type KubeApi, type KubeApiOptions } from '../support/kube-api/kube-api-stand-in.ts';
import { makePod } from '../support/kube-api/pods.ts';
import { parseLabelSelector } from '../support/kube-api/selectors.ts';
import type { Status } from '../support/kube-api/status.ts';

const certificates = makeCertificates();

async function standIn(t: TestContext, options: KubeApiOptions = {}): Promise<{ api: KubeApi; conn: Connection }> {
  const api = await startKubeApi({ certificates, ...options });
  t.after(() => api.close());
  return { api, conn: { url: api.url, ca: api.ca, token: api.token } };
}

const UNAUTHORIZED = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: 'Unauthorized', reason: 'Unauthorized', code: 401 };

test('no token or an unknown one is 401 Unauthorized on every path, in the Status shape', async (t) => {
  const { conn } = await standIn(t);
  for (const token of [undefined, 'not-the-token']) {
    for (const path of ['/api', '/version', '/api/v1/pods']) {
      const answer = await call<Status>({ ...conn, token }, path);
      assert.deepEqual([answer.status, answer.json], [401, UNAUTHORIZED], `${path} with ${token ?? 'no token'}`);
    }
  }
});

test('a forbidden namespace is 403, and so is the same resource across all namespaces; other namespaces answer', async (t) => {
  const { api, conn } = await standIn(t, { forbiddenNamespaces: ['vault'] });
  api.addPod({ name: 'a', namespace: 'shop' });
  api.addPod({ name: 'b', namespace: 'vault' });
  const denied = await call<Status>(conn, '/api/v1/namespaces/vault/pods/b');
  assert.equal(denied.status, 403);
  assert.deepEqual(denied.json, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `pods "b" is forbidden: User "${DEFAULT_USER}" cannot get resource "pods" in API group "" in the namespace "vault"`, reason: 'Forbidden', details: { name: 'b', kind: 'pods' }, code: 403 });
  const lease = await call<Status>(conn, '/apis/coordination.k8s.io/v1/namespaces/vault/leases', { method: 'POST', body: { metadata: { name: 'x' } } });
  assert.equal(lease.json.message, `leases.coordination.k8s.io is forbidden: User "${DEFAULT_USER}" cannot create resource "leases" in API group "coordination.k8s.io" in the namespace "vault"`);
  const everywhere = await call<Status>(conn, '/api/v1/pods');
  assert.equal(everywhere.json.message, `pods is forbidden: User "${DEFAULT_USER}" cannot list resource "pods" in API group "" at the cluster scope`);
  assert.equal((await call(conn, '/api/v1/namespaces/shop/pods/a')).status, 200);
});

test('faults answer the next N matching requests: 500 as a Status, 429 as APF does (plain text, Retry-After)', async (t) => {
  const { api, conn } = await standIn(t);
  api.addNamespace('shop');
  api.injectFault({ status: 500 }, 2);
  api.injectFault({ status: 429, retryAfterSeconds: 3, match: (request) => request.query.get('watch') === 'true' }, 1);
  const statuses = [];
  for (let at = 0; at < 3; at += 1) statuses.push((await call(conn, '/api/v1/namespaces/shop/pods')).status);
  assert.deepEqual(statuses, [500, 500, 200]);
  const throttled = await call(conn, '/api/v1/namespaces/shop/pods?watch=true&timeoutSeconds=1');
  assert.deepEqual([throttled.status, throttled.headers['retry-after'], throttled.headers['content-type'], throttled.text], [429, '3', 'text/plain; charset=utf-8', 'Too many requests, please try again later.\n']);
  const failed = await call<Status>(conn, '/api/v1/namespaces/shop/pods');
  assert.equal(failed.status, 200, 'the faults are used up');
});

test('the request log records method, path, query, user agent, content type, body and the answer', async (t) => {
  const { api, conn } = await standIn(t);
  api.addPod({ name: 'a', namespace: 'shop' });
  await call(conn, '/api/v1/namespaces/shop/pods?labelSelector=app%3Dweb&limit=5', { headers: { 'User-Agent': 'cmdb-hook/0.1.0 (controller)' } });
  await call(conn, '/api/v1/namespaces/shop/pods/a/status', { method: 'PATCH', contentType: 'application/strategic-merge-patch+json', body: { status: { conditions: [{ type: 'x', status: 'True' }] } } });
  const [list, patch] = api.requests;
  assert.deepEqual([list?.method, list?.path, list?.query.get('labelSelector'), list?.query.get('limit'), list?.userAgent, list?.status], ['GET', '/api/v1/namespaces/shop/pods', 'app=web', '5', 'cmdb-hook/0.1.0 (controller)', 200]);
  assert.deepEqual([patch?.method, patch?.path, patch?.contentType, JSON.parse(patch?.body ?? '') as unknown, patch?.status], ['PATCH', '/api/v1/namespaces/shop/pods/a/status', 'application/strategic-merge-patch+json', { status: { conditions: [{ type: 'x', status: 'True' }] } }, 200]);
});

test('discovery lists the served resources; unknown paths and openapi are 404', async (t) => {
  const { conn } = await standIn(t);
  const core = await call<{ resources: { name: string; kind: string; namespaced: boolean; verbs: string[] }[] }>(conn, '/api/v1');
  assert.deepEqual(core.json.resources.map((resource) => resource.name), ['pods', 'pods/status', 'events', 'namespaces', 'namespaces/status']);
  const groups = await call<{ groups: { name: string }[] }>(conn, '/apis');
  assert.deepEqual(groups.json.groups.map((group) => group.name), ['coordination.k8s.io']);
  const leases = await call<{ resources: { name: string; verbs: string[] }[] }>(conn, '/apis/coordination.k8s.io/v1');
  assert.deepEqual(leases.json.resources.map((resource) => resource.name), ['leases']);
  assert.ok(leases.json.resources[0]?.verbs.includes('update'));
  assert.equal((await call<{ gitVersion: string }>(conn, '/version')).json.gitVersion, 'v1.33.0+stand-in');
  for (const path of ['/openapi/v2', '/openapi/v3', '/api/v1/configmaps', '/apis/apps/v1']) assert.equal((await call(conn, path)).status, 404, path);
  const protobufOnly = await call<Status>(conn, '/api/v1/pods', { headers: { Accept: 'application/vnd.kubernetes.protobuf' } });
  assert.equal(protobufOnly.status, 406);
});

test('label selectors: equality, inequality, sets, existence; != and notin match objects without the key', () => {
  const labels = { app: 'web', tier: 'front' };
  const cases: [string, Record<string, string> | undefined, boolean][] = [
    ['', labels, true],
    ['app=web', labels, true],
    ['app==web,tier=front', labels, true],
    ['app!=web', labels, false],
    ['app!=web', {}, true],
    ['app in (db, web)', labels, true],
    ['app in (db)', labels, false],
    ['app notin (db)', undefined, true],
    ['app notin (web)', labels, false],
    ['tier', labels, true],
    ['!tier', labels, false],
    ['!canary,app', labels, true],
    ['example.com/role=x', { 'example.com/role': 'x' }, true],
  ];
  for (const [selector, set, expected] of cases) assert.equal(parseLabelSelector(selector)(set), expected, `${selector} on ${JSON.stringify(set)}`);
});

test('malformed selectors are 400 BadRequest', async (t) => {
  const { api, conn } = await standIn(t);
  api.addNamespace('shop');
  for (const query of ['labelSelector=app%20in%20web', 'labelSelector=app%3D%3D%3D', 'fieldSelector=metadata.name', 'fieldSelector=spec.nodeName%3Da%3Db']) {
    const answer = await call<Status>(conn, `/api/v1/namespaces/shop/pods?${query}`);
    assert.deepEqual([answer.status, answer.json.reason], [400, 'BadRequest'], query);
  }
  const escaped = await call<KubeList>(conn, '/api/v1/namespaces/shop/pods?fieldSelector=metadata.name%3Da%5C%2Cb');
  assert.equal(escaped.status, 200, 'an escaped comma is part of the value');
});

test('generated pods and the leases a client writes pass Kubernetes\' own schema; Ready follows the readiness gates', () => {
  const gated = makePod({ name: 'web-7d9f8b6c5d-aaaaa', namespace: 'shop', readinessGates: ['cmdb-hook.io/registered'] });
  const opened = makePod({ name: 'web-7d9f8b6c5d-bbbbb', namespace: 'shop', readinessGates: ['cmdb-hook.io/registered'], conditions: [{ type: 'cmdb-hook.io/registered', status: 'True' }] });
  const pending = makePod({ name: 'db-0', nodeName: null, replicaSet: null });
  for (const pod of [gated, opened, pending]) new Pod(pod as never).validate();
  new Lease({ metadata: { name: 'cmdb-hook', namespace: 'shop' }, spec: { holderIdentity: 'a', leaseDurationSeconds: 15 } }).validate();
  const ready = (pod: typeof gated) => (pod.status as { conditions: { type: string; status: string }[] }).conditions.find((condition) => condition.type === 'Ready')?.status;
  assert.deepEqual([ready(gated), ready(opened), ready(pending)], ['False', 'True', 'False']);
  assert.deepEqual([(pending.status as { phase: string }).phase, (pending.status as { podIP?: string }).podIP], ['Pending', undefined]);
  const size = JSON.stringify(gated).length;
  assert.ok(size > 3000 && size < 8000, `a pod of realistic size (${size} bytes of JSON)`);
});
