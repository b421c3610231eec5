// The controller's one request function against the API stand-in and against servers that misbehave on purpose:
// Status errors with their reasons, APF's plain-text 429 with Retry-After, 5xx, a server that never answers, a
// refused connection, the wrong CA, and the caller's abort.
import assert from 'node:assert/strict';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { test, type TestContext } from 'node:test';
import { createKubeClient, type KubeClient } from '../../src/cluster/kube/api-client.ts';
import { KubeApiError } from '../../src/cluster/kube/kube-api-error.ts';
import { loadKubeConnection } from '../../src/cluster/kube/kube-config.ts';
import { makeCertificates } from '../support/certificates.ts';
import { kubeconfigOf } from '../support/kube-api/kubeconfig.ts';
import { standInWithClient, tempDir } from '../support/kube-client.ts';

const certificates = makeCertificates();

async function failureOf(promise: Promise<unknown>): Promise<KubeApiError> {
  const error = await promise.then(
    () => assert.fail('expected a failure'),
    (caught: unknown) => caught,
  );
  assert.ok(error instanceof KubeApiError, `a KubeApiError, not ${String(error)}`);
  return error;
}

function clientFor(t: TestContext, server: string, ca: string, timeoutMs = 5000): KubeClient {
  const path = join(tempDir(), 'kubeconfig');
  writeFileSync(path, JSON.stringify(kubeconfigOf({ server, ca, token: 'secret-token-0000' })));
  const client = createKubeClient(loadKubeConnection({ kubeconfig: path, env: {} }), { timeoutMs });
  t.after(() => client.close());
  return client;
}

test('answers are JSON; refusals are KubeApiErrors with the Status reason, permanent for 4xx', async (t) => {
  const { api, client } = await standInWithClient(t, certificates);
  api.addPod({ name: 'web-0', namespace: 'shop' });
  const pod = await client.request<{ metadata: { name: string } }>({ path: '/api/v1/namespaces/shop/pods/web-0' });
  assert.equal(pod.metadata.name, 'web-0');
  assert.match(api.requests.at(-1)?.userAgent ?? '', /^cmdb-hook\/\d+\.\d+\.\d+/);

  const missing = await failureOf(client.request({ path: '/api/v1/namespaces/shop/pods/nope' }));
  assert.deepEqual([missing.status, missing.reason, missing.transient], [404, 'NotFound', false]);
  assert.equal(missing.message, 'GET /api/v1/namespaces/shop/pods/nope: 404 NotFound: pods "nope" not found');

  const lease = { metadata: { name: 'leader' }, spec: { holderIdentity: 'a' } };
  await client.request({ method: 'POST', path: '/apis/coordination.k8s.io/v1/namespaces/shop/leases', body: lease });
  const again = await failureOf(client.request({ method: 'POST', path: '/apis/coordination.k8s.io/v1/namespaces/shop/leases', body: lease }));
  assert.deepEqual([again.status, again.reason, again.transient], [409, 'AlreadyExists', false]);
});

test('429 from API Priority and Fairness (plain text) and 5xx are transient, with the Retry-After the server asked for', async (t) => {
  const { api, client } = await standInWithClient(t, certificates);
  api.injectFault({ status: 429, retryAfterSeconds: 2 });
  const throttled = await failureOf(client.request({ path: '/api/v1/pods' }));
  assert.deepEqual([throttled.status, throttled.reason, throttled.transient, throttled.retryAfterMs], [429, 'TooManyRequests', true, 2000]);
  assert.match(throttled.message, /429 TooManyRequests: Too many requests, please try again later\.$/);
  api.injectFault({ status: 500 });
  const broken = await failureOf(client.request({ path: '/api/v1/pods' }));
  assert.deepEqual([broken.status, broken.reason, broken.transient], [500, 'InternalError', true]);
  api.injectFault({ status: 503, retryAfterSeconds: 1 });
  assert.equal((await failureOf(client.request({ path: '/api/v1/pods' }))).retryAfterMs, 1000);
});

test('no answer: a time limit, the caller\'s abort, a refused connection, the wrong CA', async (t) => {
  // A TLS server that takes the request and never answers.
  const silent = https.createServer({ key: certificates.serverKey, cert: certificates.serverCert }, () => undefined);
  await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    silent.closeAllConnections();
    silent.close();
  });
  const url = `https://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  const client = clientFor(t, url, certificates.ca, 200);
  const started = performance.now();
  const slow = await failureOf(client.request({ path: '/api/v1/pods' }));
  assert.deepEqual([slow.status, slow.reason, slow.transient], [0, 'Timeout', true]);
  assert.ok(performance.now() - started < 3000, 'the limit ends the request');

  const stop = new AbortController();
  const reason = new Error('shutting down');
  setTimeout(() => stop.abort(reason), 50);
  const aborted = await client.request({ path: '/api/v1/pods', signal: stop.signal, timeoutMs: 10_000 }).catch((error: unknown) => error);
  assert.equal(aborted, reason, 'an abort rejects with the signal\'s reason');

  const refused = await failureOf(clientFor(t, 'https://127.0.0.1:1', certificates.ca).request({ path: '/api/v1/pods' }));
  assert.deepEqual([refused.status, refused.reason, refused.transient], [0, 'ConnectionRefused', true]);

  const stranger = await failureOf(clientFor(t, url, readFileSync(certificates.otherCaFile, 'utf8')).request({ path: '/api/v1/pods' }));
  assert.deepEqual([stranger.status, stranger.reason, stranger.transient], [0, 'TLSError', false]);
  for (const error of [slow, refused, stranger]) assert.doesNotMatch(error.message, /secret-token/);
});
