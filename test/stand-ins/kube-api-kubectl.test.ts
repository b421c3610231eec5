// The Kubernetes API stand-in (test/support/kube-api) proven with the real kubectl: with the kubeconfig the stand-in
// writes, kubectl's get (all namespaces, label and field selectors, chunks), get --watch, patch of pods/status, wait,
// describe and get events see exactly what a real server would show. kubectl (the pinned release of
// npm run provision) runs with an isolated HOME and KUBECONFIG and no shell, against a stand-in that reports 1.33.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test, type TestContext } from 'node:test';
import { makeCertificates } from '../support/certificates.ts';
import { call } from '../support/kube-api/http-client.ts';
import { DEFAULT_USER, startKubeApi, type KubeApi, type KubeApiOptions } from '../support/kube-api/kube-api-stand-in.ts';
import { kubectl, kubectlStream, requireKubectl, type KubectlEnv } from '../support/kube-api/kubectl.ts';
import type { KubeObject } from '../support/kube-api/resources.ts';

const certificates = makeCertificates();
const REGISTERED = 'cmdb-hook.io/registered';

interface Scene {
  api: KubeApi;
  env: KubectlEnv;
  run: (...args: string[]) => ReturnType<typeof kubectl>;
}

async function scene(t: TestContext, options: KubeApiOptions = {}): Promise<Scene> {
  const api = await startKubeApi({ certificates, terminationDelayMs: null, ...options });
  const home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
  const env = { home, kubeconfig: api.writeKubeconfig(home) };
  t.after(async () => {
    await api.close();
    rmSync(home, { recursive: true, force: true });
    // The stand-in serves no openapi (404); none of the commands here asked for it.
    assert.deepEqual(api.requests.filter((request) => request.path.startsWith('/openapi')).map((request) => request.path), []);
  });
  return { api, env, run: (...args) => kubectl(args, env) };
}

function seed(api: KubeApi): void {
  api.addPod({ name: 'web-7d9f8b6c5d-aaaaa', namespace: 'shop', labels: { app: 'web', tier: 'front' }, nodeName: 'n1' });
  api.addPod({ name: 'web-7d9f8b6c5d-bbbbb', namespace: 'shop', labels: { app: 'web', tier: 'front', canary: 'true' }, nodeName: 'n2' });
  api.addPod({ name: 'db-0', namespace: 'shop', labels: { app: 'db' }, nodeName: 'n1', replicaSet: null });
  api.addPod({ name: 'cache-5c4d3b2a1f-ccccc', namespace: 'shop', labels: { app: 'cache', tier: 'cache' }, nodeName: 'n1', phase: 'Pending' });
  api.addPod({ name: 'web-6b5a4c3d2e-ddddd', namespace: 'blog', labels: { app: 'web' }, nodeName: 'n1' });
  api.addPod({ name: 'report-eeeee', namespace: 'blog', labels: { app: 'report' }, nodeName: 'n1', phase: 'Succeeded', replicaSet: null });
}

/** `namespace/name` of the items kubectl printed with -o json. */
function names(stdout: string): string[] {
  const list = JSON.parse(stdout) as { kind: string; items: KubeObject[] };
  assert.equal(list.kind, 'List');
  return list.items.map((item) => `${item.metadata.namespace ?? ''}/${item.metadata.name ?? ''}`).sort();
}

const watchLines = (output: string) =>
  output
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as { type: string; object: KubeObject })
    .map((event) => `${event.type} ${event.object.metadata.name ?? ''}`);

requireKubectl();
for (const minor of [33]) {
  describe(`kubectl against a 1.${minor} server`, () => {
    test('get -A, -l and --field-selector show exactly the matching pods; an unknown field is refused', async (t) => {
      const { api, run } = await scene(t, { minorVersion: minor });
      seed(api);
      const all = await run('get', 'pods', '-A', '-o', 'json');
      assert.equal(all.code, 0, all.stderr);
      assert.deepEqual(names(all.stdout), ['blog/report-eeeee', 'blog/web-6b5a4c3d2e-ddddd', 'shop/cache-5c4d3b2a1f-ccccc', 'shop/db-0', 'shop/web-7d9f8b6c5d-aaaaa', 'shop/web-7d9f8b6c5d-bbbbb']);
      assert.ok(api.requests.some((request) => request.userAgent.startsWith('kubectl/v1.35.')), 'the pinned kubectl answered');
      const cases: [string[], string[]][] = [
        [['-n', 'shop', '-l', 'app=web'], ['shop/web-7d9f8b6c5d-aaaaa', 'shop/web-7d9f8b6c5d-bbbbb']],
        [['-A', '-l', 'app in (web,db),tier!=cache,!canary'], ['blog/web-6b5a4c3d2e-ddddd', 'shop/db-0', 'shop/web-7d9f8b6c5d-aaaaa']],
        [['-A', '-l', 'tier,app notin (cache)'], ['shop/web-7d9f8b6c5d-aaaaa', 'shop/web-7d9f8b6c5d-bbbbb']],
        [['-A', '--field-selector', 'spec.nodeName=n1,status.phase=Running'], ['blog/web-6b5a4c3d2e-ddddd', 'shop/db-0', 'shop/web-7d9f8b6c5d-aaaaa']],
        [['-A', '--field-selector', 'status.phase!=Running,metadata.namespace==shop'], ['shop/cache-5c4d3b2a1f-ccccc']],
      ];
      for (const [args, expected] of cases) {
        const result = await run('get', 'pods', ...args, '-o', 'json');
        assert.equal(result.code, 0, result.stderr);
        assert.deepEqual(names(result.stdout), expected, args.join(' '));
      }
      assert.ok(api.requests.some((request) => request.query.get('labelSelector') === 'app in (web,db),tier!=cache,!canary'), 'the selector reached the server');
      const refused = await run('get', 'pods', '-n', 'shop', '--field-selector', 'status.hostIP=192.168.49.2');
      assert.equal(refused.code, 1);
      assert.match(refused.stderr, /BadRequest.*field label not supported: status\.hostIP/);
    });

    test('get --chunk-size=2 pages through the list with continue tokens', async (t) => {
      const { api, run } = await scene(t, { minorVersion: minor });
      seed(api);
      const result = await run('get', 'pods', '-A', '--chunk-size=2', '-o', 'json');
      assert.equal(result.code, 0, result.stderr);
      assert.equal(names(result.stdout).length, 6);
      const pages = api.requests.filter((request) => request.path === '/api/v1/pods');
      assert.deepEqual(
        pages.map((request) => [request.query.get('limit'), request.query.has('continue')]),
        [['2', false], ['2', true], ['2', true]],
      );
    });

    test('get --watch sees ADDED, MODIFIED and DELETED as pods change, and selector transitions', async (t) => {
      const { api, env } = await scene(t, { minorVersion: minor });
      seed(api);
      const all = kubectlStream(['get', 'pods', '-n', 'shop', '--watch', '--output-watch-events', '-o', 'json'], env);
      const web = kubectlStream(['get', 'pods', '-n', 'shop', '-l', 'app=web', '--watch', '--output-watch-events', '-o', 'json'], env);
      t.after(() => Promise.all([all.stop(), web.stop()]));
      await all.waitFor((output) => watchLines(output).length === 4);
      await web.waitFor((output) => watchLines(output).length === 2);
      const watching = () => api.requests.filter((request) => request.query.get('watch') === 'true' && request.status === 200).length === 2;
      while (!watching()) await new Promise((resolve) => setTimeout(resolve, 20));
      api.modifyPod('shop', 'db-0', (pod) => ((pod.status as { phase: string }).phase = 'Failed'));
      api.addPod({ name: 'web-7d9f8b6c5d-fffff', namespace: 'shop', labels: { app: 'web' }, nodeName: 'n1' });
      api.modifyPod('shop', 'web-7d9f8b6c5d-bbbbb', (pod) => (pod.metadata.labels = { app: 'old' }));
      api.deletePod('shop', 'web-7d9f8b6c5d-aaaaa');
      api.finishDeletion('shop', 'web-7d9f8b6c5d-aaaaa');
      const expected = ['MODIFIED db-0', 'ADDED web-7d9f8b6c5d-fffff', 'MODIFIED web-7d9f8b6c5d-bbbbb', 'MODIFIED web-7d9f8b6c5d-aaaaa', 'DELETED web-7d9f8b6c5d-aaaaa'];
      await all.waitFor((output) => watchLines(output).length === 4 + expected.length);
      assert.deepEqual(watchLines(all.output()).slice(4), expected);
      // -l app=web: the relabelled pod leaves the selection as DELETED; db-0 was never in it.
      await web.waitFor((output) => watchLines(output).length === 6);
      assert.deepEqual(watchLines(web.output()).slice(2), ['ADDED web-7d9f8b6c5d-fffff', 'DELETED web-7d9f8b6c5d-bbbbb', 'MODIFIED web-7d9f8b6c5d-aaaaa', 'DELETED web-7d9f8b6c5d-aaaaa']);
    });

    test('patch --subresource=status --type=strategic merges conditions by type', async (t) => {
      const { api, run } = await scene(t, { minorVersion: minor });
      api.addPod({ name: 'db-0', namespace: 'shop', nodeName: 'n1', readinessGates: [REGISTERED], replicaSet: null });
      const types = () => ((api.pod('shop', 'db-0')?.status as { conditions: { type: string; status: string }[] }).conditions).map((condition) => `${condition.type}=${condition.status}`);
      const before = types();
      const patch = (status: string) => run('patch', 'pod', 'db-0', '-n', 'shop', '--subresource=status', '--type=strategic', '-p', JSON.stringify({ status: { conditions: [{ type: REGISTERED, status, reason: 'Registered' }] } }));
      const first = await patch('False');
      assert.equal(first.code, 0, first.stderr);
      assert.deepEqual(types(), [...before, `${REGISTERED}=False`]);
      const second = await patch('True');
      assert.equal(second.code, 0, second.stderr);
      assert.deepEqual(types(), [...before, `${REGISTERED}=True`], 'the same type is replaced in place, the others untouched');
    });

    test('wait --for=condition returns once the condition is set, and times out without it', async (t) => {
      const { api, env, run } = await scene(t, { minorVersion: minor });
      api.addPod({ name: 'db-0', namespace: 'shop', nodeName: 'n1', readinessGates: [REGISTERED], replicaSet: null });
      api.addPod({ name: 'db-1', namespace: 'shop', nodeName: 'n1', readinessGates: [REGISTERED], replicaSet: null, conditions: [{ type: REGISTERED, status: 'True' }] });
      const missing = await run('wait', `--for=condition=${REGISTERED}`, 'pod/db-0', '-n', 'shop', '--timeout=1s');
      assert.equal(missing.code, 1);
      assert.match(missing.stderr, /timed out waiting for the condition on pods\/db-0/);
      const waiting = kubectlStream(['wait', `--for=condition=${REGISTERED}`, 'pod/db-0', '-n', 'shop', '--timeout=10s'], env);
      const from = api.requests.length;
      while (!api.requests.slice(from).some((request) => request.query.get('watch') === 'true' && request.query.get('fieldSelector') === 'metadata.name=db-0')) await new Promise((resolve) => setTimeout(resolve, 20));
      api.modifyPod('shop', 'db-0', (pod) => (pod.status as { conditions: unknown[] }).conditions.push({ type: REGISTERED, status: 'True', lastTransitionTime: new Date().toISOString() }));
      const met = await waiting.exited;
      assert.equal(met.code, 0, met.stderr);
      assert.match(met.stdout, /pod\/db-0 condition met/);
    });

    test('delete waits through the grace period until the kubelet\'s final delete removes the pod', async (t) => {
      const { api, run } = await scene(t, { minorVersion: minor, terminationDelayMs: 300 });
      api.addPod({ name: 'db-0', namespace: 'shop', nodeName: 'n1', replicaSet: null });
      const deleted = await run('delete', 'pod', 'db-0', '-n', 'shop');
      assert.equal(deleted.code, 0, deleted.stderr);
      assert.match(deleted.stdout, /pod "db-0" deleted/);
      assert.equal(api.pod('shop', 'db-0'), undefined);
      assert.ok(api.requests.some((request) => request.query.get('watch') === 'true' && request.query.get('fieldSelector') === 'metadata.name=db-0'), 'kubectl waited on a watch');
    });

    test('a wrong token is Unauthorized; a forbidden namespace is Forbidden', async (t) => {
      const { api, env, run } = await scene(t, { minorVersion: minor, forbiddenNamespaces: ['vault'] });
      seed(api);
      const wrong = await kubectl(['get', 'pods', '-n', 'shop'], { ...env, kubeconfig: api.writeKubeconfig(mkdtempSync(join(env.home, 'wrong-')), { token: 'not-the-token' }) });
      assert.equal(wrong.code, 1);
      // What kubectl prints against a real server too: its discovery gets the 401 first.
      assert.match(wrong.stderr, /error: You must be logged in to the server \(the server has asked for the client to provide credentials\)/);
      assert.ok(api.requests.some((request) => request.status === 401));
      const allowed = await run('get', 'pods', '-n', 'shop', '-o', 'name');
      assert.equal(allowed.code, 0, allowed.stderr);
      const denied = await run('get', 'pods', '-n', 'vault');
      assert.equal(denied.code, 1);
      assert.match(denied.stderr, new RegExp(`Forbidden.*pods is forbidden: User "${DEFAULT_USER}" cannot list resource "pods" in API group "" in the namespace "vault"`));
      const everywhere = await run('get', 'pods', '-A');
      assert.match(everywhere.stderr, /Forbidden.*at the cluster scope/);
    });

    test('events posted through the API show in get events --field-selector involvedObject.uid and in describe', async (t) => {
      const { api, run } = await scene(t, { minorVersion: minor });
      const pod = api.addPod({ name: 'db-0', namespace: 'shop', nodeName: 'n1', replicaSet: null });
      const other = api.addPod({ name: 'db-1', namespace: 'shop', nodeName: 'n1', replicaSet: null });
      for (const [target, reason] of [[pod, 'Registered'], [other, 'Deregistered']] as const) {
        const event = { metadata: { name: `${target.metadata.name ?? ''}.18a2b3c4d5e6f7a8` }, involvedObject: { kind: 'Pod', namespace: 'shop', name: target.metadata.name, uid: target.metadata.uid, apiVersion: 'v1' }, reason, message: `${reason} in the CMDB`, type: 'Normal', source: { component: 'cmdb-hook' }, firstTimestamp: '2026-01-01T00:00:00Z', lastTimestamp: '2026-01-01T00:00:00Z', count: 1, reportingComponent: 'cmdb-hook', reportingInstance: 'cmdb-hook-0' };
        const posted = await call({ url: api.url, ca: api.ca, token: api.token }, '/api/v1/namespaces/shop/events', { method: 'POST', body: event });
        assert.equal(posted.status, 201, posted.text);
      }
      const events = await run('get', 'events', '-n', 'shop', '--field-selector', `involvedObject.uid=${pod.metadata.uid ?? ''}`, '-o', 'json');
      assert.equal(events.code, 0, events.stderr);
      assert.deepEqual((JSON.parse(events.stdout) as { items: { reason: string }[] }).items.map((event) => event.reason), ['Registered']);
      const described = await run('describe', 'pod', 'db-0', '-n', 'shop');
      assert.equal(described.code, 0, described.stderr);
      assert.match(described.stdout, /Normal\s+Registered\s+.*cmdb-hook\s+Registered in the CMDB/);
      assert.doesNotMatch(described.stdout, /Deregistered/);
    });
  });
}
