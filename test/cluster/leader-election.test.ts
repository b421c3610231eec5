// Leader election on a Lease in the API stand-in, with short settings (lease 1-2 s, renew deadline 600 ms, retry
// 150 ms). Each candidate has its own token, so the stand-in's log and faults can tell them apart.
import assert from 'node:assert/strict';
import { test, type TestContext } from 'node:test';
import { hostname } from 'node:os';
import { createKubeClient } from '../../src/cluster/kube/api-client.ts';
import { loadKubeConnection } from '../../src/cluster/kube/kube-config.ts';
import { identityFromEnv, runLeaderElection, type LeaderElectionOptions } from '../../src/cluster/kube/leader-election.ts';
import { microTime } from '../../src/cluster/kube/lease-lock.ts';
import { makeCertificates } from '../support/certificates.ts';
import { startKubeApi, type KubeApi } from '../support/kube-api/kube-api-stand-in.ts';
import { LEASES } from '../support/kube-api/resources.ts';
import { eventually, tempDir } from '../support/kube-client.ts';

const certificates = makeCertificates();
const LEASE_PATH = '/apis/coordination.k8s.io/v1/namespaces/shop/leases/cmdb-hook-controller';
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const FAST = { leaseDurationMs: 1000, renewDeadlineMs: 600, retryPeriodMs: 150 };

interface Candidate {
  identity: string;
  startedAt: number | undefined;
  /** Date.now() when it started leading, to compare with the stand-in's request log. */
  startedWall: number | undefined;
  stoppedAt: number | undefined;
  leading: AbortSignal | undefined;
  result: Promise<'lost' | 'stopped'>;
  stop(): Promise<'lost' | 'stopped'>;
}

async function standIn(t: TestContext): Promise<KubeApi> {
  const api = await startKubeApi({ certificates, tokens: { 'token-a': 'pod-a', 'token-b': 'pod-b' }, namespaces: ['shop'] });
  t.after(() => api.close());
  return api;
}

function candidate(t: TestContext, api: KubeApi, identity: string, settings: Partial<LeaderElectionOptions> = FAST): Candidate {
  const client = createKubeClient(loadKubeConnection({ kubeconfig: api.writeKubeconfig(tempDir(), { token: `token-${identity.slice(-1)}` }), env: {} }));
  const stopper = new AbortController();
  const state: Candidate = {
    identity,
    startedAt: undefined,
    startedWall: undefined,
    stoppedAt: undefined,
    leading: undefined,
    result: runLeaderElection({
      client,
      namespace: 'shop',
      name: 'cmdb-hook-controller',
      identity,
      signal: stopper.signal,
      onStartedLeading: (leading) => {
        state.startedAt = performance.now();
        state.startedWall = Date.now();
        state.leading = leading;
      },
      onStoppedLeading: () => (state.stoppedAt = performance.now()),
      ...settings,
    }),
    stop: async () => {
      stopper.abort();
      return state.result;
    },
  };
  t.after(async () => {
    await state.stop();
    client.close();
  });
  return state;
}

const leaders = (candidates: Candidate[]) => candidates.filter((each) => each.startedAt !== undefined && each.stoppedAt === undefined).map((each) => each.identity);

test('two candidates: exactly one leads and keeps renewing; the lease names it in MicroTime', async (t) => {
  const api = await standIn(t);
  // A little more room than FAST: a busy machine must not make a healthy leader miss its renew deadline.
  const settings = { leaseDurationMs: 2000, renewDeadlineMs: 1200, retryPeriodMs: 200 };
  const both = [candidate(t, api, 'pod-a', settings), candidate(t, api, 'pod-b', settings)];
  await eventually('a leader', () => (leaders(both).length ? true : undefined));
  const [leader] = leaders(both);
  const first = api.lease('shop', 'cmdb-hook-controller')?.spec as Record<string, unknown>;
  await new Promise((resolve) => setTimeout(resolve, 2300));
  assert.deepEqual(leaders(both), [leader], 'the same one, alone, past the lease duration');
  const later = api.lease('shop', 'cmdb-hook-controller')?.spec as Record<string, unknown>;
  assert.equal(later.holderIdentity, leader);
  assert.equal(later.leaseDurationSeconds, 2);
  assert.equal(later.leaseTransitions, 0);
  assert.equal(later.acquireTime, first.acquireTime, 'renewals keep the acquire time');
  assert.notEqual(later.renewTime, first.renewTime, 'renewals move the renew time');
  for (const time of [later.acquireTime, later.renewTime]) assert.match(String(time), MICRO_TIME);
  const writes = api.requests.filter((request) => request.path.startsWith(LEASE_PATH.replace(/\/[^/]+$/, '')) && request.method !== 'GET');
  assert.ok(writes.every((request) => request.status === 201 || request.status === 200 || request.status === 409), 'no write was refused for its shape');
});

test('the leader\'s renewals fail: it gives up within its renew deadline, before the other takes over; leaseTransitions + 1', async (t) => {
  const api = await standIn(t);
  const a = candidate(t, api, 'pod-a');
  await eventually('a leading', () => (a.startedAt !== undefined ? true : undefined));
  const b = candidate(t, api, 'pod-b');
  await new Promise((resolve) => setTimeout(resolve, 300));
  const cutAt = performance.now();
  api.injectFault({ status: 503, match: (request) => request.user === 'pod-a' }, 10_000);
  await eventually('b leading', () => (b.startedAt !== undefined ? true : undefined), 5000);
  assert.ok(a.stoppedAt !== undefined && a.leading?.aborted, 'a was told it lost');
  assert.equal(await a.result, 'lost');
  assert.ok(a.stoppedAt < (b.startedAt ?? 0), 'a stopped before b started');
  assert.ok(a.stoppedAt - cutAt < FAST.renewDeadlineMs + 1000, `a gave up ${Math.round(a.stoppedAt - cutAt)} ms after its renewals began to fail`);
  const lastRenewal = api.requests.filter((request) => request.method === 'PUT' && request.path === LEASE_PATH && request.status === 200 && request.body.includes('"holderIdentity":"pod-a"')).at(-1);
  assert.ok(lastRenewal && (b.startedWall ?? 0) - lastRenewal.at.getTime() >= FAST.leaseDurationMs - 5, 'b waited a whole lease duration after the last renewal it could have seen');
  const spec = api.lease('shop', 'cmdb-hook-controller')?.spec as Record<string, unknown>;
  assert.deepEqual([spec.holderIdentity, spec.leaseTransitions], ['pod-b', 1]);
  assert.match(String(spec.acquireTime), MICRO_TIME);
});

test('stopping the leader releases the lease (holder "", 1 s); the other takes over without waiting out the lease', async (t) => {
  const api = await standIn(t);
  const settings = { leaseDurationMs: 3000, renewDeadlineMs: 600, retryPeriodMs: 150 };
  const a = candidate(t, api, 'pod-a', settings);
  await eventually('a leading', () => (a.startedAt !== undefined ? true : undefined));
  const b = candidate(t, api, 'pod-b', settings);
  await new Promise((resolve) => setTimeout(resolve, 400));
  const stoppedAt = performance.now();
  assert.equal(await a.stop(), 'stopped');
  assert.ok(a.leading?.aborted && a.stoppedAt !== undefined);
  const released = api.requests.filter((request) => request.method === 'PUT' && request.path === LEASE_PATH).at(-1);
  const { acquireTime, renewTime, ...rest } = (JSON.parse(released?.body ?? '{}') as { spec: Record<string, unknown> }).spec;
  assert.deepEqual(rest, { holderIdentity: '', leaseDurationSeconds: 1, leaseTransitions: 0 });
  for (const time of [acquireTime, renewTime]) assert.match(String(time), MICRO_TIME);
  await eventually('b leading', () => (b.startedAt !== undefined ? true : undefined), 5000);
  assert.ok((b.startedAt ?? 0) - stoppedAt < settings.leaseDurationMs, `b took over ${Math.round((b.startedAt ?? 0) - stoppedAt)} ms after the stop, not after the 3 s lease`);
});

test('a 409 Conflict on the update means not leader: someone wrote the lease in between', async (t) => {
  const api = await standIn(t);
  const old = microTime(new Date(Date.now() - 60_000));
  api.store.put(LEASES, { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: 'cmdb-hook-controller', namespace: 'shop' }, spec: { holderIdentity: 'gone-pod', leaseDurationSeconds: 1, acquireTime: old, renewTime: old, leaseTransitions: 4 } });
  let thiefAt = 0;
  // Just before b's first takeover attempt is answered, a third party takes the lease: b's resourceVersion is stale.
  api.injectFault({
    status: 500,
    match: (request) => {
      if (thiefAt === 0 && request.method === 'PUT' && request.user === 'pod-b') {
        const lease = api.lease('shop', 'cmdb-hook-controller');
        api.store.put(LEASES, { ...lease, metadata: { ...lease?.metadata, name: 'cmdb-hook-controller' }, spec: { ...(lease?.spec as object), holderIdentity: 'thief', renewTime: microTime() } });
        thiefAt = performance.now();
      }
      return false;
    },
  });
  const b = candidate(t, api, 'pod-b');
  await eventually('b leading', () => (b.startedAt !== undefined ? true : undefined), 6000);
  const puts = api.requests.filter((request) => request.method === 'PUT' && request.path === LEASE_PATH);
  assert.equal(puts[0]?.status, 409, 'the first update was refused as stale');
  assert.ok((b.startedAt ?? 0) - thiefAt >= FAST.leaseDurationMs - 50, 'b did not lead on the refused update; it waited out the thief\'s lease');
  const spec = api.lease('shop', 'cmdb-hook-controller')?.spec as Record<string, unknown>;
  assert.deepEqual([spec.holderIdentity, spec.leaseTransitions], ['pod-b', 5]);
});

test('identity: POD_NAME, else the host name; settings are checked as client-go checks them', async (t) => {
  assert.equal(identityFromEnv({ POD_NAME: 'cmdb-hook-controller-7d9f8-abcde' }), 'cmdb-hook-controller-7d9f8-abcde');
  assert.equal(identityFromEnv({}), hostname());
  assert.match(microTime(new Date('2026-12-02T10:00:00.123Z')), /^2026-12-02T10:00:00\.123000Z$/);
  const client = createKubeClient(loadKubeConnection({ kubeconfig: (await standIn(t)).writeKubeconfig(tempDir(), { token: 'token-a' }), env: {} }));
  await assert.rejects(runLeaderElection({ client, namespace: 'x', name: 'y', identity: 'a', leaseDurationMs: 1000, renewDeadlineMs: 1000, signal: AbortSignal.abort(), onStartedLeading: () => undefined }), /lease duration \(1000 ms, at least 1 s\) > renew deadline \(1000 ms\)/);
  client.close();
});
