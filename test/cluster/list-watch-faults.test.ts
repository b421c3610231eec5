// The controller's pod list+watch when things go wrong: a dropped connection, a watch that falls silent, 500 and
// 429 answers, a namespace the controller may not list. Delays are checked from below only (timers never fire
// early; a busy machine only makes them later).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { makeCertificates } from '../support/certificates.ts';
import { eventually, standInWithClient } from '../support/kube-client.ts';
import { namesOf, podRequests, recordPods } from '../support/pod-recorder.ts';
import type { ApiRequest } from '../support/kube-api/server.ts';

const certificates = makeCertificates();
const isWatch = (request: ApiRequest) => request.query.get('watch') === 'true';
const isList = (request: ApiRequest) => request.method === 'GET' && !isWatch(request);
const gaps = (times: number[]) => times.slice(1).map((time, at) => time - (times[at] ?? 0));
const SLACK_MS = 5;

test('a dropped watch reconnects with growing delays from the last resourceVersion; changes meanwhile come as events', async (t) => {
  const { api, client } = await standInWithClient(t, certificates);
  api.addPod({ name: 'a', namespace: 'shop' });
  const recorder = recordPods(t, client, { namespaces: ['shop'], backoff: { initialMs: 100, maxMs: 2000 } });
  await eventually('the watch to be open', () => (api.watches.open > 0 ? true : undefined));
  const resumeAt = podRequests(api.requests, 'watch')[0]?.query.get('resourceVersion');
  api.injectFault({ status: 500, match: isWatch }, 3);
  api.watches.drop('cut');
  api.addPod({ name: 'during', namespace: 'shop' });
  await eventually('the pod made while away', () => (recorder.events().length ? true : undefined), 8000);
  assert.deepEqual(recorder.events(), ['added shop/during']);
  assert.equal(podRequests(api.requests, 'list').length, 1, 'no relist: the history still has everything since');
  const watches = podRequests(api.requests, 'watch');
  assert.deepEqual(watches.map((request) => request.status), [200, 500, 500, 500, 200]);
  assert.ok(watches.every((request) => request.query.get('resourceVersion') === resumeAt), 'every attempt resumes where the first left off');
  // After the cut: waits of at least 50, 100, 200, 400 ms (each drawn from [step/2, step], the step doubling).
  const waits = gaps(watches.slice(1).map((request) => request.at.getTime()));
  [100, 200, 400].forEach((floor, at) => assert.ok((waits[at] ?? 0) >= floor - SLACK_MS, `wait ${at + 1} is ${waits[at]} ms, at least ${floor}`));
  assert.deepEqual(recorder.problems.map((problem) => [problem.action, problem.forbidden, (problem.error as Error).name]), Array.from({ length: 4 }, () => ['watch', false, 'KubeApiError']));
});

test('a server (or proxy) that ends every watch at once, cleanly, gets backoff rather than a tight loop', async (t) => {
  const { api, client } = await standInWithClient(t, certificates);
  api.addPod({ name: 'a', namespace: 'shop' });
  // A hook, not a fault: every watch request is answered, and ended right after its first bytes.
  api.injectFault({
    status: 500,
    match: (request) => {
      if (isWatch(request)) setTimeout(() => api.watches.drop('end'), 20);
      return false;
    },
  });
  const recorder = recordPods(t, client, { namespaces: ['shop'], backoff: { initialMs: 100, maxMs: 2000 } });
  await eventually('four watches', () => (podRequests(api.requests, 'watch').length >= 4 ? true : undefined), 8000);
  const waits = gaps(podRequests(api.requests, 'watch').map((request) => request.at.getTime()));
  [50, 100, 200].forEach((floor, at) => assert.ok((waits[at] ?? 0) >= floor - SLACK_MS, `wait ${at + 1} is ${waits[at]} ms, at least ${floor}`));
  assert.ok(recorder.problems.every((problem) => /ended the watch at once/.test((problem.error as Error).message)));
  assert.equal(podRequests(api.requests, 'list').length, 1, 'no relist: the resourceVersion is still good');
});

test('a watch that falls silent is given up by the watchdog and the pods are listed again; bookmarks keep a quiet one alive', async (t) => {
  const { api, client } = await standInWithClient(t, certificates, { bookmarkIntervalMs: 150 });
  api.addPod({ name: 'a', namespace: 'shop' });
  const recorder = recordPods(t, client, { namespaces: ['shop'], watchdogMs: 600 });
  await eventually('the watch to be open', () => (api.watches.open > 0 ? true : undefined));
  await new Promise((resolve) => setTimeout(resolve, 1500));
  assert.equal(podRequests(api.requests, 'list').length, 1, 'a quiet watch with bookmarks every 150 ms is not stalled');
  assert.equal(recorder.problems.length, 0);

  api.watches.stall();
  api.addPod({ name: 'quiet', namespace: 'shop' });
  const second = await eventually('a relist', () => recorder.syncs()[1], 5000);
  assert.deepEqual(namesOf(second.pods), ['shop/a', 'shop/quiet']);
  assert.deepEqual(recorder.problems.map((problem) => [problem.action, problem.stalled]), [['watch', true]]);
  api.addPod({ name: 'after', namespace: 'shop' });
  await eventually('an event on the new watch', () => (recorder.events(true).length ? true : undefined));
  assert.deepEqual(recorder.events(true), ['added shop/after']);
});

test('500 and 429 on the list back off (a 429 waits for its Retry-After), then the list goes through', async (t) => {
  const { api, client } = await standInWithClient(t, certificates);
  api.addPod({ name: 'a', namespace: 'shop' });
  api.injectFault({ status: 500, match: isList }, 2);
  api.injectFault({ status: 429, retryAfterSeconds: 1, match: isList }, 1);
  const recorder = recordPods(t, client, { namespaces: ['shop'], backoff: { initialMs: 100, maxMs: 2000 } });
  const [first] = await eventually('the first synced', () => (recorder.syncs().length ? recorder.syncs() : undefined), 8000);
  assert.deepEqual(namesOf(first?.pods ?? []), ['shop/a']);
  const lists = podRequests(api.requests, 'list');
  assert.deepEqual(lists.map((request) => request.status), [500, 500, 429, 200]);
  const waits = gaps(lists.map((request) => request.at.getTime()));
  assert.ok((waits[0] ?? 0) >= 50 - SLACK_MS && (waits[1] ?? 0) >= 100 - SLACK_MS, `backoff waits ${waits.join(', ')}`);
  assert.ok((waits[2] ?? 0) >= 1000 - SLACK_MS, `the 429 asked for 1 s; waited ${waits[2]} ms`);
  assert.deepEqual(recorder.problems.map((problem) => [problem.action, (problem.error as { status: number }).status]), [['list', 500], ['list', 500], ['list', 429]]);
  assert.ok((recorder.problems[2]?.retryInMs ?? 0) >= 1000);
});

test('403 in one namespace: reported loudly and named not listable; the other namespaces go on', async (t) => {
  const { api, client } = await standInWithClient(t, certificates, { forbiddenNamespaces: ['vault'] });
  api.addPod({ name: 'a', namespace: 'shop' });
  api.addPod({ name: 'secret', namespace: 'vault' });
  const recorder = recordPods(t, client, { namespaces: ['shop', 'vault'], backoff: { initialMs: 200, maxMs: 400 } });
  const [first] = await eventually('the first synced', () => (recorder.syncs().length ? recorder.syncs() : undefined));
  assert.deepEqual(namesOf(first?.pods ?? []), ['shop/a']);
  assert.deepEqual(first?.info, { complete: false, notListable: ['vault'], relisted: ['shop'] });
  const refusal = recorder.problems[0];
  assert.deepEqual([refusal?.scope, refusal?.action, refusal?.forbidden], ['vault', 'list', true]);
  assert.match((refusal?.error as Error).message, /403 Forbidden: pods is forbidden: User ".*" cannot list resource "pods" in API group "" in the namespace "vault"/);

  await eventually('the shop watch', () => (podRequests(api.requests, 'watch').length ? true : undefined));
  api.addPod({ name: 'b', namespace: 'shop' });
  await eventually('an event from shop', () => (recorder.events().length ? true : undefined));
  assert.deepEqual(recorder.events(), ['added shop/b']);
  // vault is tried again after backoff, and stays refused: reported each time, no new synced.
  await eventually('a second refusal', () => (recorder.problems.filter((problem) => problem.forbidden).length >= 2 ? true : undefined));
  assert.equal(recorder.syncs().length, 1);
});

test('stopping: the abort ends every list and watch at once', async (t) => {
  const { api, client } = await standInWithClient(t, certificates, { forbiddenNamespaces: ['vault'] });
  api.addPod({ name: 'a', namespace: 'shop' });
  const recorder = recordPods(t, client, { namespaces: ['shop', 'vault'], backoff: { initialMs: 60_000, maxMs: 60_000 } });
  await eventually('the shop watch', () => (api.watches.open > 0 ? true : undefined));
  const started = performance.now();
  await recorder.stop();
  assert.ok(performance.now() - started < 1000, 'neither the open watch nor the backoff sleep holds it');
  await eventually('the watch to close on the server', () => (api.watches.open === 0 ? true : undefined));
});
