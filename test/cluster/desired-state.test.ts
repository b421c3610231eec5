// Desired records from pods: Running, with an IP, not being deleted, and the container ready; a record already
// written stays desired while its pod lives on (readiness flaps, restarts), never for a finished or deleting pod.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { desiredRecords, keptRecordIds, podPhases } from '../../src/cluster/desired-state.ts';
import { identityFromApiPod } from '../../src/pod/from-api-pod.ts';
import { buildRecord, recordId } from '../../src/pod/record.ts';
import { apiPod, type PodShape } from '../support/api-pods.ts';

const UID = '0b7e4f0e-8f3c-4d5e-9a6b-1c2d3e4f5a6b';
const NOW = new Date('2026-12-01T10:00:00Z');
const idOf = (container: string) => recordId(UID, container);

test('which containers of a pod are desired, with and without a record already written', () => {
  const rows: { what: string; shape: Partial<PodShape>; existing?: string[]; want: string[] }[] = [
    { what: 'running, ready', shape: {}, want: ['app'] },
    { what: 'running, not ready yet: the hook would still be waiting', shape: { ready: [] }, want: [] },
    { what: 'readiness flap: not ready, record written', shape: { ready: [] }, existing: ['app'], want: ['app'] },
    { what: 'one of two containers ready', shape: { containers: ['app', 'proxy'], ready: ['proxy'] }, want: ['proxy'] },
    { what: 'only the containers the annotation selects', shape: { containers: ['app', 'proxy'], annotations: { 'cmdb-hook.io/containers': 'app' } }, want: ['app'] },
    { what: 'init containers are never selected', shape: { initContainers: ['migrate'] }, want: ['app'] },
    { what: 'pending', shape: { phase: 'Pending', ready: [] }, want: [] },
    { what: 'running without an IP yet', shape: { phase: 'Running', ip: '' }, want: [] },
    { what: 'succeeded', shape: { phase: 'Succeeded', ready: [] }, existing: ['app'], want: [] },
    { what: 'failed (evicted)', shape: { phase: 'Failed', ready: [] }, existing: ['app'], want: [] },
    { what: 'being deleted: nothing new', shape: { deleting: true }, want: [] },
    { what: 'being deleted: a written record is left to preStop and the plan', shape: { deleting: true }, existing: ['app'], want: [] },
    { what: 'phase Unknown (node lost), record written', shape: { phase: 'Unknown', ready: [] }, existing: ['app'], want: ['app'] },
  ];
  for (const { what, shape, existing = [], want } of rows) {
    const pod = apiPod({ name: 'web-0', uid: UID, ...shape });
    const desired = desiredRecords({ pods: [pod], cluster: 'c', existing: new Set(existing.map(idOf)), now: NOW });
    assert.deepEqual([...desired.keys()], want.map(idOf), what);
  }
});

test('a desired record is buildRecord\'s, state ready, with the pod\'s facts of now and its annotations\' settings', () => {
  const pod = apiPod({ name: 'web-0', uid: UID, ready: [], annotations: { 'cmdb-hook.io/app': 'shop', 'cmdb-hook.io/field.team': 'web' } });
  const desired = desiredRecords({ pods: [pod], cluster: 'prod', existing: new Set([idOf('app')]), now: NOW });
  assert.deepEqual(desired.get(idOf('app')), buildRecord(identityFromApiPod(pod), { cluster: 'prod', container: 'app', app: 'shop', fields: { team: 'web' } }, 'ready', NOW));
});

test('podPhases: every pod seen, by UID, whatever its phase', () => {
  const pods = [
    apiPod({ name: 'a', uid: 'uid-a' }),
    apiPod({ name: 'b', uid: 'uid-b', phase: 'Failed' }),
    apiPod({ name: 'c', uid: 'uid-c', phase: 'Pending', deleting: true }),
  ];
  assert.deepEqual([...podPhases(pods)], [['uid-a', 'Running'], ['uid-b', 'Failed'], ['uid-c', 'Pending']]);
});

test('a pod whose annotation names no container of it is reported, and its other containers still count', () => {
  const problems: string[] = [];
  const pod = apiPod({ name: 'web-0', uid: UID, annotations: { 'cmdb-hook.io/containers': 'app,ap' } });
  const desired = desiredRecords({ pods: [pod], cluster: 'c', existing: new Set(), now: NOW, onProblem: (problem) => problems.push(problem) });
  assert.deepEqual([...desired.keys()], [idOf('app')]);
  assert.deepEqual(problems, ['shop/web-0: cmdb-hook.io/containers names "ap", which is no container of the pod']);
});

test('keptRecordIds: every selected container of a pod that lives on, ready or not; none of a finished or deleting pod', () => {
  const pods = [
    apiPod({ name: 'flapping', uid: 'uid-a', containers: ['app', 'proxy'], ready: [] }),
    apiPod({ name: 'lost-node', uid: 'uid-b', phase: 'Unknown', ready: [] }),
    apiPod({ name: 'chosen', uid: 'uid-c', containers: ['app', 'proxy'], annotations: { 'cmdb-hook.io/containers': 'proxy' } }),
    apiPod({ name: 'evicted', uid: 'uid-d', phase: 'Failed', ready: [] }),
    apiPod({ name: 'leaving', uid: 'uid-e', deleting: true }),
  ];
  assert.deepEqual([...keptRecordIds(pods)], ['uid-a_app', 'uid-a_proxy', 'uid-b_app', 'uid-c_proxy']);
  // What a fresh publisher counts as desired (nothing confirmed yet) misses the not-ready ones: not enough for an inventory.
  assert.deepEqual([...desiredRecords({ pods, cluster: 'c', existing: new Set(), now: NOW }).keys()], ['uid-c_proxy']);
});
