// Identity of records across restarts, containers and incarnations;
// deregister and retire; labels/annotations files in the kubelet's format; --field values.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { test } from 'node:test';
import { baseFlags, downwardEnv, runHook } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

test('register twice: one record with the same id (the hook may be delivered twice)', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const first = await runHook(['register', ...flags], { env });
  const second = await runHook(['register', ...flags], { env });
  assert.equal(first.code, 0, first.stderr);
  assert.equal(second.code, 0, second.stderr);
  assert.equal(cmdb.writes().length, 2);
  assert.equal(cmdb.writes()[0]?.path, cmdb.writes()[1]?.path);
  assert.equal(cmdb.records.size, 1);
  assert.match(second.summary, /\(200 OK\)/);
  const [record] = cmdb.records.values();
  assert.equal(record?.id, `${env.POD_UID}_app`);
});

test('two containers of one pod: two records', async (t) => {
  const { cmdb, env, podinfo } = await scene(t);
  for (const container of ['app', 'sidecar']) {
    const flags = ['--cmdb-url', cmdb.url, '--cluster', 'c1', '--container', container, '--podinfo-dir', podinfo];
    assert.equal((await runHook(['register', ...flags], { env })).code, 0);
  }
  assert.deepEqual([...cmdb.records.keys()].sort(), [`${env.POD_UID}_app`, `${env.POD_UID}_sidecar`]);
});

test('StatefulSet: a new incarnation of web-0 gets a new id; the old one\'s late deregister leaves it alone', async (t) => {
  const { cmdb, podinfo } = await scene(t);
  const flags = baseFlags(cmdb.url, podinfo);
  const old = downwardEnv({ name: 'web-0', uid: randomUUID(), ip: '10.244.1.5' });
  const next = downwardEnv({ name: 'web-0', uid: randomUUID(), ip: '10.244.1.5' });
  assert.equal((await runHook(['register', ...flags], { env: old })).code, 0);
  assert.equal((await runHook(['register', ...flags], { env: next })).code, 0);
  assert.equal(cmdb.records.size, 2, 'same name and IP, two incarnations, two ids');
  const late = await runHook(['deregister', ...flags], { env: old });
  assert.equal(late.code, 0, late.stderr);
  assert.deepEqual([...cmdb.records.keys()], [`${next.POD_UID}_app`]);
  assert.equal(cmdb.records.get(`${next.POD_UID}_app`)?.state, 'ready');
});

test('deregister deletes the record; deregister of an absent record succeeds', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  await runHook(['register', ...flags], { env });
  const removed = await runHook(['deregister', ...flags], { env });
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(cmdb.records.size, 0);
  assert.match(removed.summary, /deleted record .* \(204 No Content\)/);
  const again = await runHook(['deregister', ...flags, '--strict'], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.summary, /found no record .* \(404 Not Found\)/);
});

test('410 Gone on deregister also means the record is gone', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  cmdb.injectFault({ status: 410, method: 'DELETE' });
  const run = await runHook(['deregister', ...flags, '--strict'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(cmdb.writes().length, 1);
});

test('--deregister-action retire keeps the record with state terminated', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  await runHook(['register', ...flags], { env });
  const run = await runHook(['deregister', ...flags, '--deregister-action', 'retire'], { env });
  assert.equal(run.code, 0, run.stderr);
  const [record] = cmdb.records.values();
  assert.equal(record?.state, 'terminated');
  assert.equal(cmdb.writes().at(-1)?.method, 'PUT');
  assert.match(run.summary, /retired record/);
});

test('--drain waits after deregistering, inside the deadline', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const run = await runHook(['deregister', ...flags, '--drain', '1s', '--timeout', '5s'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.ok(run.durationMs >= 1000, `returned after ${Math.round(run.durationMs)}ms`);
  assert.equal(cmdb.writes().length, 1);
  assert.match(run.summary, /drained 1s/);
});

test('the record: exact top-level names, pod identity from the Downward API, labels and annotations in the kubelet format', async (t) => {
  const labels = ['app.kubernetes.io/name="checkout"', 'quote="say \\"hi\\""', 'tier="web"'].join('\n');
  const annotations = [
    'back="C:\\\\data\\\\x"',
    'kubectl.kubernetes.io/last-applied-configuration="{\\"apiVersion\\":\\"v1\\"}\\n"',
    'note="line1\\nline2"',
    'owner="Zoë 東京 \\u200b"',
  ].join('\n');
  const { cmdb, flags } = await scene(t, { labels, annotations });
  const env = downwardEnv({ name: 'checkout-5f7-abcde', ip: '10.244.3.17', ips: '10.244.3.17,fd00::17', nodeName: 'node-7', hostIp: '192.0.2.7' });
  const run = await runHook(['register', ...flags], { env });
  assert.equal(run.code, 0, run.stderr);
  const [record] = cmdb.records.values();
  assert.ok(record);
  assert.deepEqual(Object.keys(record).sort(), ['agent', 'annotations', 'app', 'cluster', 'container', 'fields', 'id', 'labels', 'namespace', 'node', 'observedAt', 'pod', 'state']);
  assert.deepEqual(record.pod, { name: 'checkout-5f7-abcde', uid: env.POD_UID, ip: '10.244.3.17', ips: ['10.244.3.17', 'fd00::17'] });
  assert.deepEqual(record.node, { name: 'node-7', ip: '192.0.2.7' });
  assert.equal(record.namespace, 'shop');
  assert.equal(record.cluster, 'test-cluster');
  assert.equal(record.app, 'checkout', 'app falls back to app.kubernetes.io/name');
  assert.deepEqual(record.labels, { 'app.kubernetes.io/name': 'checkout', quote: 'say "hi"', tier: 'web' });
  assert.deepEqual(record.annotations, {
    back: 'C:\\data\\x',
    'kubectl.kubernetes.io/last-applied-configuration': '{"apiVersion":"v1"}\n',
    note: 'line1\nline2',
    owner: 'Zoë 東京 \u200b',
  });
  assert.equal(record.state, 'ready');
  assert.deepEqual(record.agent, { name: 'cmdb-hook', version: '0.1.0' });
  assert.ok(Math.abs(Date.parse(String(record.observedAt)) - Date.now()) < 60_000);
  const put = cmdb.writes()[0];
  assert.equal(put?.contentType, 'application/json');
  assert.equal(put?.userAgent, 'cmdb-hook/0.1.0');
});

test('--field values with commas, = and spaces arrive intact; the env var takes one per line; a flag beats it', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const run = await runHook(['register', ...flags, '--app', 'billing', '--field', 'owner=team a, team b', '--field', 'query=a=1&b=2', '--field', 'empty=', '--field', '__proto__=plain'], { env });
  assert.equal(run.code, 0, run.stderr);
  const put = JSON.parse(cmdb.writes()[0]?.body ?? '{}') as { fields: Record<string, string> };
  assert.deepEqual(Object.entries(put.fields), [['owner', 'team a, team b'], ['query', 'a=1&b=2'], ['empty', ''], ['__proto__', 'plain']]);
  assert.equal(cmdb.records.get(`${env.POD_UID}_app`)?.app, 'billing');

  const fromEnv = { ...env, CMDB_HOOK_FIELD: 'cost-center=42, EU\nnote=x = y' };
  assert.equal((await runHook(['register', ...flags], { env: fromEnv })).code, 0);
  assert.deepEqual(cmdb.records.get(`${env.POD_UID}_app`)?.fields, { 'cost-center': '42, EU', note: 'x = y' });

  assert.equal((await runHook(['register', ...flags, '--field', 'only=flag'], { env: fromEnv })).code, 0);
  assert.deepEqual(cmdb.records.get(`${env.POD_UID}_app`)?.fields, { only: 'flag' });
});

test('every flag can come from its env var; a flag beats its env var', async (t) => {
  const { cmdb, env, podinfo } = await scene(t);
  const settings = { CMDB_HOOK_CMDB_URL: cmdb.url, CMDB_HOOK_CLUSTER: 'from-env', CMDB_HOOK_CONTAINER: 'app', CMDB_HOOK_PODINFO_DIR: podinfo, CMDB_HOOK_STRICT: '1' };
  const fromEnv = await runHook(['register'], { env: { ...env, ...settings } });
  assert.equal(fromEnv.code, 0, fromEnv.stderr);
  assert.equal([...cmdb.records.values()][0]?.cluster, 'from-env');
  const flagWins = await runHook(['register', '--cluster', 'from-flag'], { env: { ...env, ...settings } });
  assert.equal(flagWins.code, 0, flagWins.stderr);
  assert.equal([...cmdb.records.values()][0]?.cluster, 'from-flag');
});

test('boolean env vars take true/false, 1/0, yes/no, in any case', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  cmdb.injectFault({ status: 400, times: 8 });
  for (const [word, strict] of [['true', true], ['1', true], ['YES', true], ['yes', true], ['false', false], ['0', false], ['No', false], ['no', false]] as const) {
    const run = await runHook(['register', ...flags], { env: { ...env, CMDB_HOOK_STRICT: word } });
    assert.equal(run.code, strict ? 4 : 0, `CMDB_HOOK_STRICT=${word}: ${run.summary}`);
  }
});

test('one ConfigMap for both hooks: register-only env vars do not break deregister', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const run = await runHook(['deregister', ...flags], { env: { ...env, CMDB_HOOK_READY_URL: 'http://127.0.0.1:1/healthz', CMDB_HOOK_READY_INTERVAL: '1s' } });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(cmdb.writes().length, 1);
});

test('fallbacks: pod name from the hostname, namespace from the service account file', async (t) => {
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const { hostname } = await import('node:os');
  const { cmdb, env, flags, podinfo } = await scene(t);
  const namespaceFile = join(podinfo, 'namespace');
  writeFileSync(namespaceFile, 'from-sa\n');
  const { POD_NAME: _name, POD_NAMESPACE: _namespace, ...rest } = env;
  const run = await runHook(['register', ...flags, '--namespace-file', namespaceFile], { env: rest });
  assert.equal(run.code, 0, run.stderr);
  const [record] = cmdb.records.values();
  assert.equal(record?.pod.name, hostname());
  assert.equal(record?.namespace, 'from-sa');
});
