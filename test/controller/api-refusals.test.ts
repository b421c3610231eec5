// The API server refuses the pods' list, or cannot be reached: the run says why in its last line and does not wait
// for an answer that will not change. A label selector the server refuses (400) is a usage error in both modes; a
// wrong token (401) ends a --once run at once (a long-running controller keeps trying, logging errors: a rotated
// token mends it); an unreachable server ends a --once run at its --timeout, exit 5, naming the last failure.
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { after, before, beforeEach, test } from 'node:test';
import { SELECTED, freePort, startScene, untilReady, waitFor, type ControllerProcess, type Scene } from '../support/controller/controller-run.ts';

let scene: Scene;
let kubeconfig: string;
before(async () => {
  scene = await startScene();
  kubeconfig = readFileSync(scene.kubeconfig, 'utf8');
  scene.api.addPod({ name: 'web-a', namespace: 'shop', labels: { app: 'web', ...SELECTED } });
});
beforeEach(() => writeFileSync(scene.kubeconfig, kubeconfig, { mode: 0o600 }));
after(() => scene.close());

const summary = (run: ControllerProcess) => run.stderr().trimEnd().split('\n').at(-1) ?? '';
const within = async (run: ControllerProcess, ms: number) => {
  const code = await Promise.race([run.exited, new Promise<string>((resolve) => setTimeout(() => resolve('still running'), ms))]);
  if (code === 'still running') await run.stop('SIGKILL');
  return code;
};

test('a --selector the API server refuses (400): exit 2 naming it, with the server\'s reason, --once or not; nothing written', async () => {
  for (const args of [['--once'], []]) {
    const run = scene.start([...args, '--selector', 'app in (web']);
    assert.equal(await within(run, 10_000), 2, run.stderr());
    assert.match(summary(run), /: --selector \(CMDB_HOOK_SELECTOR\) "app in \(web" was refused by the API server \(.*400 BadRequest: unable to parse requirement.*\); write it as kubectl get pods -l takes it/);
  }
  // The long-running one stood for the Lease as it listed: it hands the Lease back on the way out, held or being taken.
  const holder = (scene.api.lease('cmdb-hook', 'cmdb-hook-controller')?.spec as { holderIdentity?: string } | undefined)?.holderIdentity;
  assert.ok(holder === undefined || holder === '', `the Lease is left to the next replica, not held by ${holder ?? ''}`);
  assert.equal(scene.cmdb.writes().length, 0);
});

test('a wrong token (401): a --once run ends at the second refusal, exit 2 naming --kubeconfig; a long-running one keeps trying, logging errors', async () => {
  writeFileSync(scene.kubeconfig, kubeconfig.replaceAll(/"token": "[^"]+"/g, '"token": "not-the-token"'), { mode: 0o600 });
  const once = scene.start(['--once']);
  assert.equal(await within(once, 10_000), 2, once.stderr());
  assert.match(summary(once), /: listing the pods failed in a way asking again will not mend \(.*401 Unauthorized.*\); check --kubeconfig \(CMDB_HOOK_KUBECONFIG\): its server, CA, credentials and the RBAC rule pods list$/);
  assert.doesNotMatch(once.stderr(), /not-the-token/, 'the token is never shown');

  // Two namespaces listed side by side: the run ends at one namespace's second refusal, not at one of each.
  const listsOf = (path: string) => scene.api.requests.filter((request) => request.method === 'GET' && request.path === path && request.status === 401).length;
  const before = ['shop', 'default'].map((namespace) => listsOf(`/api/v1/namespaces/${namespace}/pods`));
  const namespaced = scene.start(['--once', '--namespace', 'shop', '--namespace', 'default']);
  assert.equal(await within(namespaced, 10_000), 2, namespaced.stderr());
  const refused = ['shop', 'default'].map((namespace, at) => listsOf(`/api/v1/namespaces/${namespace}/pods`) - (before[at] ?? 0));
  assert.ok(Math.max(...refused) >= 2, `one namespace asked twice: ${refused.join(', ')}`);

  const running = scene.start([]);
  assert.ok(await waitFor(() => running.logs().filter((line) => line.level === 50 && /^list of pods in every namespace refused; trying again$/.test(String(line.msg))).length >= 2, 15_000), running.stderr());
  assert.equal((await running.get('/readyz')).status, 503, 'never listed: not ready');
  assert.equal(await running.stop(), 0);
  assert.equal(scene.cmdb.writes().length, 0);
});

test('an API server that cannot be reached: a --once run ends at its --timeout, exit 5, the last failure in its summary', async () => {
  const closed = await freePort();
  writeFileSync(scene.kubeconfig, kubeconfig.replaceAll(/"server": "https:\/\/127\.0\.0\.1:\d+"/g, `"server": "https://127.0.0.1:${closed}"`), { mode: 0o600 });
  const started = performance.now();
  const run = scene.start(['--once', '--timeout', '3s']);
  assert.equal(await within(run, 10_000), 5, run.stderr());
  assert.ok(performance.now() - started < 3000 + 2000, 'ends at its --timeout');
  assert.match(summary(run), /FAILED: stopped before the pods were listed \(the last try: .*ECONNREFUSED.*\); exit 5$/);
  assert.ok(run.logs().some((line) => (line.err as { code?: string } | undefined)?.code === 'ERR_KUBE_UNAVAILABLE'), 'typed as the API server\'s trouble, not the CMDB\'s');
});

test('a 400 on a relist, after the selector was accepted (a proxy\'s, say), is no usage error: the controller keeps going', async () => {
  const run = scene.start([]);
  assert.ok(await untilReady(run), run.stderr());
  const list = (request: { method: string; path: string; query: URLSearchParams }) => request.method === 'GET' && request.path === '/api/v1/pods' && request.query.get('watch') !== 'true';
  scene.api.injectFault({ status: 400, message: 'proxy: request header too large', match: list }, 2);
  assert.ok(scene.api.watches.error() >= 1, 'a 410 in the stream: relist');
  const refusedLines = () => run.logs().filter((line) => line.level === 50 && String(line.msg) === 'list of pods in every namespace refused; trying again').length;
  assert.ok(await waitFor(() => refusedLines() >= 2, 15_000), run.stderr());
  const pod = scene.api.addPod({ name: 'web-b', namespace: 'shop', labels: { app: 'web', ...SELECTED } });
  assert.ok(await waitFor(() => scene.cmdb.records.has(`${pod.metadata.uid ?? ''}_app`), 15_000), `listed again and registered\n${run.stderr()}`);
  assert.equal(run.child.exitCode, null, 'still running');
  assert.equal(await run.stop(), 0);
});
