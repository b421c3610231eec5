// Events on pods, posted to the API stand-in as core/v1 Events: their shape, the per-pod rate limit, and that the
// caller is never held up or failed by them.
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { createKubeClient } from '../../src/cluster/kube/api-client.ts';
import { createEventRecorder, type CoreEvent } from '../../src/cluster/kube/events.ts';
import { loadKubeConnection } from '../../src/cluster/kube/kube-config.ts';
import { makeCertificates } from '../support/certificates.ts';
import { kubeconfigOf } from '../support/kube-api/kubeconfig.ts';
import { standInWithClient, tempDir } from '../support/kube-client.ts';

const certificates = makeCertificates();
const SECONDS = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/;

test('an event is a core/v1 Event on the pod: involvedObject with its uid, source, reporting fields, count and times', async (t) => {
  const { api, client } = await standInWithClient(t, certificates);
  const pod = api.addPod({ name: 'web-0', namespace: 'shop' });
  const recorder = createEventRecorder({ client, instance: 'cmdb-hook-controller-abc12' });
  const started = performance.now();
  recorder.record(pod, 'Normal', 'Registered', 'record web-0 upserted in the CMDB');
  assert.ok(performance.now() - started < 50, 'record() returns at once');
  assert.equal(api.events('shop').length, 0, 'nothing is sent while the caller goes on');
  await recorder.flush();
  const [event] = api.events('shop');
  assert.ok(event);
  const { metadata, ...fields } = event as unknown as CoreEvent & { metadata: Record<string, unknown> };
  assert.match(String(metadata.name), /^web-0\.[0-9a-f]+$/);
  assert.deepEqual({ ...fields, firstTimestamp: '', lastTimestamp: '' }, {
    apiVersion: 'v1',
    kind: 'Event',
    involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: 'shop', name: 'web-0', uid: pod.metadata.uid, resourceVersion: pod.metadata.resourceVersion },
    reason: 'Registered',
    message: 'record web-0 upserted in the CMDB',
    type: 'Normal',
    source: { component: 'cmdb-hook-controller' },
    firstTimestamp: '',
    lastTimestamp: '',
    count: 1,
    reportingComponent: 'cmdb-hook-controller',
    reportingInstance: 'cmdb-hook-controller-abc12',
  });
  assert.match(fields.firstTimestamp, SECONDS);
  assert.equal(fields.lastTimestamp, fields.firstTimestamp);
});

test('rate limit per pod: a burst of 25, then one per refill period; another pod has its own bucket', async (t) => {
  const { api, client } = await standInWithClient(t, certificates);
  const busy = api.addPod({ name: 'crashy', namespace: 'shop' });
  const calm = api.addPod({ name: 'calm', namespace: 'shop' });
  const dropped: string[] = [];
  const recorder = createEventRecorder({ client, refillMs: 500, onDrop: (why, event) => dropped.push(`${why} ${event.involvedObject.name}`) });
  for (let at = 0; at < 30; at += 1) recorder.record(busy, 'Warning', 'CmdbUnavailable', `attempt ${at}`);
  recorder.record(calm, 'Normal', 'Registered', 'ok');
  await recorder.flush();
  const sent = (name: string) => api.events('shop').filter((event) => (event.involvedObject as { name: string }).name === name).length;
  assert.deepEqual([sent('crashy'), sent('calm')], [25, 1]);
  assert.deepEqual(dropped, Array.from({ length: 5 }, () => 'rate-limited crashy'));
  await new Promise((resolve) => setTimeout(resolve, 600));
  recorder.record(busy, 'Warning', 'CmdbUnavailable', 'later');
  recorder.record(busy, 'Warning', 'CmdbUnavailable', 'later again');
  await recorder.flush();
  assert.equal(sent('crashy'), 26, 'one token came back');
  assert.equal(dropped.length, 6);
});

test('failures never reach the caller: transient ones are tried again, permanent ones dropped and reported', async (t) => {
  const { api, client } = await standInWithClient(t, certificates, { forbiddenNamespaces: ['vault'] });
  const pod = api.addPod({ name: 'web-0', namespace: 'shop' });
  const hidden = api.addPod({ name: 'secret', namespace: 'vault' });
  const dropped: { why: string; status: number | undefined }[] = [];
  const recorder = createEventRecorder({ client, retryDelayMs: 50, onDrop: (why, _event, error) => dropped.push({ why, status: (error as { status?: number } | undefined)?.status }) });
  api.injectFault({ status: 503, match: (request) => request.method === 'POST' }, 2);
  recorder.record(pod, 'Normal', 'Registered', 'after two 503s');
  recorder.record(hidden, 'Normal', 'Registered', 'forbidden');
  await recorder.flush();
  assert.deepEqual(api.events('shop').map((event) => event.message), ['after two 503s']);
  assert.deepEqual(dropped, [{ why: 'failed', status: 403 }]);

  // An API server that is not there at all: record() still returns, flush() with a deadline gives up.
  const path = join(tempDir(), 'kubeconfig');
  writeFileSync(path, JSON.stringify(kubeconfigOf({ server: 'https://127.0.0.1:1', ca: certificates.ca, token: 'x' })));
  const nowhere = createKubeClient(loadKubeConnection({ kubeconfig: path, env: {} }));
  t.after(() => nowhere.close());
  const lost: string[] = [];
  const offline = createEventRecorder({ client: nowhere, retryDelayMs: 10_000, onDrop: (why) => lost.push(why) });
  for (let at = 0; at < 3; at += 1) offline.record(pod, 'Warning', 'CmdbUnavailable', `try ${at}`);
  await offline.flush(AbortSignal.timeout(300));
  assert.deepEqual(lost, ['failed', 'failed', 'failed'], 'the one in flight and the queued ones are dropped on the deadline');
});
