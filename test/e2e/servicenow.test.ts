// --cmdb-kind servicenow: a cmdb_ci_kubernetes_pod CI through Identification and Reconciliation, retired by
// default and deleted through the Table API on request, against a stand-in that enforces ServiceNow's documented
// contract (test/support/servicenow-stand-in.ts cites ServiceNow/ServiceNowDocs c_IdentifyReconcileAPI.md,
// c_TableAPI.md and kubernetes-discovery.md).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { baseFlags, downwardEnv, podinfoDir, runHook, type HookRun, type PodFixture } from '../support/run-hook.ts';
import { POD_CLASS, startServicenowStandIn, type ServicenowOptions, type ServicenowStandIn } from '../support/servicenow-stand-in.ts';

const USER = 'svc.cmdb-hook';
// Characters a server escapes when it echoes them ('/' in JSON from PHP, '+', '=' and '!' in URLs).
const PASSWORD = 'pw/7Q2x+Secret=!';
const TOKEN = 'sn-oauth-4d3c2b1a9f8e-SECRET';
const BASIC = Buffer.from(`${USER}:${PASSWORD}`).toString('base64');
const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-servicenow-'));
const passwordFile = join(dir, 'password');
const tokenFile = join(dir, 'token');
writeFileSync(passwordFile, `${PASSWORD}\n`);
writeFileSync(tokenFile, `${TOKEN}\n`);

interface World {
  sn: ServicenowStandIn;
  env: Record<string, string>;
  /** Everything but the credentials. */
  common: string[];
  /** common plus basic auth. */
  flags: string[];
}

async function world(t: TestContext, options: ServicenowOptions = {}, pod: PodFixture = {}): Promise<World> {
  const sn = await startServicenowStandIn({ user: USER, password: PASSWORD, token: TOKEN, ...options });
  const podinfo = podinfoDir({ labels: 'app="shop"', annotations: '' });
  t.after(async () => {
    await sn.close();
    rmSync(podinfo, { recursive: true, force: true });
  });
  const common = [...baseFlags(sn.url, podinfo), '--cmdb-kind', 'servicenow', '--servicenow-data-source', 'cmdb-hook'];
  return { sn, env: downwardEnv(pod), common, flags: [...common, '--cmdb-user', USER, '--cmdb-password-file', passwordFile] };
}

const ciOf = (sn: ServicenowStandIn, uid: string) => [...sn.cis.values()].find((ci) => ci.k8s_uid === uid);

function assertNoSecrets(run: HookRun, what: string): void {
  for (const secret of [PASSWORD, TOKEN, BASIC, encodeURIComponent(PASSWORD), JSON.stringify(PASSWORD).slice(1, -1).replaceAll('/', '\\/')]) {
    assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), `${what}: a secret appears in the output`);
  }
}

test('basic credentials echoed base64-encoded inside a longer text (a request dump) are masked', async (t) => {
  const headerLine = Buffer.from(`Authorization: Basic ${BASIC}\r\n`).toString('base64');
  const json = Buffer.from(JSON.stringify({ user: USER, password: PASSWORD })).toString('base64url');
  const detail = `request ${headerLine} credentials ${json}`;
  const server = createServer((request, response) => {
    request.resume().on('end', () => response.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'User Not Authenticated', detail }, status: 'failure' })));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { env, flags } = await world(t);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const run = await runHook(['register', ...flags.map((flag) => (flag.startsWith('http://127.0.0.1:') ? url : flag)), '--strict'], { env });
  assert.equal(run.code, 4, run.stderr);
  assert.match(run.summary, /User Not Authenticated: request [A-Za-z0-9+/]+\*\*\*[A-Za-z0-9+/=]* credentials [A-Za-z0-9_-]+\*\*\*/);
  // "Authorization: Basic " is 21 bytes (28 characters); the password starts 22 bytes into the JSON (30 characters).
  for (const form of [headerLine.slice(29, 80), json.slice(31, 50)]) assert.ok(!run.stderr.includes(form), `${form} appears in the output`);
  assertNoSecrets(run, 'base64 echo');
});

test('register inserts the pod CI through IRE: documented fields, source native key = pod UID, basic auth', async (t) => {
  const { sn, env, flags } = await world(t, {}, { name: 'checkout-5f7-abcde', namespace: 'shop', ip: '10.244.3.17' });
  const run = await runHook(['register', ...flags, '--strict'], { env });
  assert.equal(run.code, 0, run.stderr);
  const [post] = sn.requests;
  assert.equal(sn.requests.length, 1);
  assert.equal(post?.method, 'POST');
  assert.equal(post.path, '/api/now/identifyreconcile');
  assert.equal(post.query.get('sysparm_data_source'), 'cmdb-hook');
  assert.equal(post.headers.authorization, `Basic ${BASIC}`);
  const item = (post.json as { items: { className: string; values: Record<string, string>; sys_object_source_info: Record<string, string> }[] }).items[0];
  assert.equal(item?.className, POD_CLASS);
  assert.deepEqual(item?.values, { name: 'checkout-5f7-abcde', k8s_uid: env.POD_UID, namespace: 'shop', cluster: 'test-cluster', state: 'Running', ip_address: '10.244.3.17', install_status: '1' });
  assert.equal(item?.sys_object_source_info?.source_name, 'cmdb-hook');
  assert.equal(item?.sys_object_source_info?.source_native_key, env.POD_UID);
  assert.match(item?.sys_object_source_info?.source_recency_timestamp ?? '', /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
  assert.equal(sn.cis.size, 1);
  assert.equal(ciOf(sn, env.POD_UID ?? '')?.install_status, '1');
  assert.match(run.summary, /registered as .*_app \(200 OK, IRE INSERT [0-9a-f]{32}\)/);
  assert.doesNotMatch(run.summary, /warnings/, 'every field sent exists on the class');
});

test('register twice: the same CI, NO_CHANGE; a changed IP is an UPDATE of it', async (t) => {
  const { sn, env, flags } = await world(t);
  const first = await runHook(['register', ...flags], { env });
  const again = await runHook(['register', ...flags], { env });
  const moved = await runHook(['register', ...flags], { env: { ...env, POD_IP: '10.244.9.9', POD_IPS: '10.244.9.9' } });
  for (const run of [first, again, moved]) assert.equal(run.code, 0, run.stderr);
  const sysId = /IRE INSERT ([0-9a-f]{32})/.exec(first.summary)?.[1];
  assert.ok(sysId, first.summary);
  assert.match(again.summary, new RegExp(`IRE NO_CHANGE ${sysId}`));
  assert.match(moved.summary, new RegExp(`IRE UPDATE ${sysId}`));
  assert.equal(sn.cis.size, 1);
  assert.equal(sn.cis.get(sysId)?.ip_address, '10.244.9.9');
});

test('bearer auth with --cmdb-token-file', async (t) => {
  const { sn, env, common } = await world(t);
  const run = await runHook(['register', ...common, '--cmdb-token-file', tokenFile, '--strict'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(sn.requests[0]?.headers.authorization, `Bearer ${TOKEN}`);
  assert.equal(sn.cis.size, 1);
  assertNoSecrets(run, 'bearer');
});

test('wrong credentials: 401 with ServiceNow\'s error text and a hint, not retried; exit 0, 4 with --strict; no secret in any output', async (t) => {
  const { sn, env, common } = await world(t, { password: 'another-password', token: 'another-token', echoAuthorization: true });
  const basic = await runHook(['register', ...common, '--cmdb-user', USER, '--cmdb-password-file', passwordFile, '--log-level', 'trace'], { env });
  assert.equal(basic.code, 0, basic.stderr);
  assert.match(basic.summary, /answered 401 Unauthorized \(ServiceNow: User Not Authenticated: Required to provide Auth information \(got Basic \*\*\*\); check --cmdb-user and --cmdb-password-file/);
  assert.match(basic.summary, /exit 0 \(fail-open; --strict exits 4\)/);
  const bearer = await runHook(['deregister', ...common, '--cmdb-token-file', tokenFile, '--strict', '--log-level', 'trace'], { env });
  assert.equal(bearer.code, 4);
  assert.match(bearer.summary, /got Bearer \*\*\*/);
  assert.equal(sn.requests.length, 2, 'one request per run: 401 is not retried');
  assertNoSecrets(basic, 'basic 401');
  assertNoSecrets(bearer, 'bearer 401');
});

test('403: the message names the roles the user needs', async (t) => {
  const { sn, env, flags } = await world(t);
  sn.injectFault({ status: 403, body: { error: { message: 'Operation Failed', detail: 'ACL Exception Insert Failed due to security constraints' }, status: 'failure' } });
  const run = await runHook(['register', ...flags, '--strict'], { env });
  assert.equal(run.code, 4);
  assert.match(run.summary, /403 Forbidden \(ServiceNow: Operation Failed: ACL Exception Insert Failed due to security constraints; the ServiceNow user lacks a role or ACL: .*itil or asset/);
});

test('HTTP 200 with item errors is a failure: reported, not retried; exit 0, 4 with --strict', async (t) => {
  // The data source is not a choice of cmdb_ci.discovery_source on this instance.
  const { sn, env, flags } = await world(t, { discoverySources: ['ServiceNow'] });
  const lenient = await runHook(['register', ...flags], { env });
  assert.equal(lenient.code, 0, lenient.stderr);
  assert.match(lenient.summary, /FAILED: POST .*\/api\/now\/identifyreconcile\?sysparm_data_source=cmdb-hook answered 200 OK \(IRE item error: INVALID_INPUT_DATA: Invalid data source .*is --servicenow-data-source one of the choices/);
  const strict = await runHook(['register', ...flags, '--strict'], { env });
  assert.equal(strict.code, 4);
  assert.equal(sn.requests.length, 2, 'one attempt per run');
  assert.equal(sn.cis.size, 0);
});

test('IRE LOCK_TIMEOUT is transient: retried, then the CI is written', async (t) => {
  const { sn, env, flags } = await world(t);
  sn.failItems([{ error: 'LOCK_TIMEOUT', message: 'Failed to acquire synchronization lock for cmdb_ci_kubernetes_pod' }]);
  const run = await runHook(['register', ...flags, '--strict'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(sn.requests.length, 2);
  assert.ok(run.logs.some((line) => String(line.msg).includes('retrying')));
  assert.equal(sn.cis.size, 1);
});

test('503, then success: the one retry layer retries', async (t) => {
  const { sn, env, flags } = await world(t);
  sn.injectFault({ status: 503, body: '<html><body>Instance unavailable</body></html>', headers: { 'content-type': 'text/html' } });
  const run = await runHook(['register', ...flags, '--strict'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(sn.requests.length, 2);
  assert.equal(sn.cis.size, 1);
});

test('deregister retires by default: the same IRE call with install_status 7, the CI stays', async (t) => {
  const { sn, env, flags } = await world(t);
  assert.equal((await runHook(['register', ...flags], { env })).code, 0);
  const run = await runHook(['deregister', ...flags, '--strict'], { env });
  assert.equal(run.code, 0, run.stderr);
  const retire = sn.requests.at(-1);
  assert.equal(retire?.method, 'POST');
  assert.equal(retire.path, '/api/now/identifyreconcile');
  assert.equal((retire.json as { items: { values: Record<string, string> }[] }).items[0]?.values.install_status, '7');
  assert.equal(sn.cis.size, 1);
  assert.equal(ciOf(sn, env.POD_UID ?? '')?.install_status, '7');
  assert.match(run.summary, /retired record .*_app \(200 OK, IRE UPDATE [0-9a-f]{32}\)/);
  // A liveness restart: preStop, then postStart again in the same pod (same UID) installs the same CI again.
  assert.equal((await runHook(['register', ...flags], { env })).code, 0);
  assert.equal(sn.cis.size, 1);
  assert.equal(ciOf(sn, env.POD_UID ?? '')?.install_status, '1');
});

test('--deregister-action delete: looks the CI up by k8s_uid, then DELETE through the Table API (204)', async (t) => {
  const { sn, env, flags } = await world(t);
  const other = sn.seed({ name: 'web-1', k8s_uid: 'a-different-pod-uid', namespace: 'shop' });
  assert.equal((await runHook(['register', ...flags], { env })).code, 0);
  const run = await runHook(['deregister', ...flags, '--deregister-action', 'delete', '--strict'], { env });
  assert.equal(run.code, 0, run.stderr);
  const [lookUp, remove] = sn.requests.slice(1);
  assert.equal(lookUp?.method, 'GET');
  assert.equal(lookUp.path, `/api/now/table/${POD_CLASS}`);
  assert.equal(lookUp.query.get('sysparm_query'), `k8s_uid=${env.POD_UID}`);
  assert.equal(lookUp.query.get('sysparm_limit'), '1');
  assert.equal(lookUp.query.get('sysparm_fields'), 'sys_id,k8s_uid,name');
  assert.equal(remove?.method, 'DELETE');
  assert.match(remove.path, new RegExp(`^/api/now/table/${POD_CLASS}/[0-9a-f]{32}$`));
  assert.deepEqual([...sn.cis.keys()], [other], 'only this pod\'s CI is gone');
  assert.match(run.summary, /deleted record .*_app \(204 No Content\)/);
});

test('delete of an absent CI succeeds: found no record, also with --strict', async (t) => {
  const { sn, env, flags } = await world(t);
  const run = await runHook(['deregister', ...flags, '--deregister-action', 'delete', '--strict'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(sn.requests.length, 1, 'no DELETE');
  assert.match(run.summary, /found no record .*_app \(200 OK, no cmdb_ci_kubernetes_pod with k8s_uid /);
});

test('UID guard: ServiceNow ignores a query on a field the class lacks; a CI that is not this pod\'s is left alone', async (t) => {
  // This instance's cmdb_ci_kubernetes_pod has no k8s_uid: the query matches every pod, and the rows carry no k8s_uid.
  const { sn, env, flags } = await world(t, { missingFields: ['k8s_uid'] });
  const stranger = sn.seed({ name: 'web-0', namespace: 'shop' });
  const run = await runHook(['deregister', ...flags, '--deregister-action', 'delete', '--strict'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(sn.requests.length, 1, 'no DELETE');
  assert.ok(sn.cis.has(stranger));
  assert.match(run.summary, new RegExp(`left the record of .*_app alone: the ${POD_CLASS} CI ${stranger} found for k8s_uid ${env.POD_UID} has no k8s_uid field, not this pod's UID`));
});

test('UID guard: a CI with another pod\'s k8s_uid is never deleted', async (t) => {
  const { sn, env, flags } = await world(t, {}, { name: 'web-0' });
  const older = sn.seed({ name: 'web-0', k8s_uid: 'old-incarnation-uid', namespace: 'shop' });
  const run = await runHook(['deregister', ...flags, '--deregister-action', 'delete'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.ok(sn.cis.has(older), 'the same name, another UID: left alone');
  assert.match(run.summary, /found no record/);
});

test('UID guard when ServiceNow ignores the query: the CI it lists belongs to another pod, so nothing is deleted', async (t) => {
  const { sn, env, flags } = await world(t, { queryIgnored: true });
  const other = sn.seed({ name: 'web-1', k8s_uid: 'another-pod-uid', namespace: 'shop' });
  const run = await runHook(['deregister', ...flags, '--deregister-action', 'delete', '--strict'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(sn.requests.map((request) => request.method), ['GET'], 'no DELETE');
  assert.ok(sn.cis.has(other));
  assert.match(run.summary, new RegExp(`left the record of .*_app alone: .* has k8s_uid "another-pod-uid", not this pod's UID`));
});

test('--dry-run sends nothing, works without --cmdb-url, and masks the credentials', async (t) => {
  const { sn, env, flags } = await world(t);
  const noUrl = flags.filter((flag, index) => flag !== '--cmdb-url' && flags[index - 1] !== '--cmdb-url');
  const register = await runHook(['register', ...noUrl, '--dry-run'], { env });
  assert.equal(register.code, 0, register.stderr);
  const plan = JSON.parse(register.stdout) as { method: string; url: string; headers: Record<string, string>; body: { items: { values: Record<string, string> }[] } };
  assert.equal(plan.method, 'POST');
  assert.equal(plan.url, '<cmdb-url>/api/now/identifyreconcile?sysparm_data_source=cmdb-hook');
  assert.equal(plan.headers.authorization, 'Basic ***');
  assert.equal(plan.body.items[0]?.values.install_status, '1');

  const retire = await runHook(['deregister', ...flags, '--dry-run'], { env });
  assert.equal((JSON.parse(retire.stdout) as { body: { items: { values: Record<string, string> }[] } }).body.items[0]?.values.install_status, '7');
  const remove = await runHook(['deregister', ...flags, '--deregister-action', 'delete', '--dry-run', '--cmdb-token-file', tokenFile].filter((flag, index, all) => !['--cmdb-user', '--cmdb-password-file'].includes(flag) && !['--cmdb-user', '--cmdb-password-file'].includes(all[index - 1] ?? '')), { env });
  assert.equal(remove.code, 0, remove.stderr);
  const steps = JSON.parse(remove.stdout) as Record<string, { method: string; url: string; headers: Record<string, string> }>;
  assert.deepEqual(Object.values(steps).map((step) => step.method), ['GET', 'DELETE']);
  assert.equal(steps.lookUp?.url, `${sn.url}/api/now/table/${POD_CLASS}?sysparm_query=k8s_uid=${env.POD_UID}&sysparm_fields=sys_id,k8s_uid,name&sysparm_limit=1`);
  assert.equal(steps.lookUp?.headers.authorization, 'Bearer ***');
  assert.equal(sn.requests.length, 0);
  for (const run of [register, retire, remove]) assertNoSecrets(run, 'dry run');
});

test('config errors (exit 2, nothing sent): no data source, no credentials, an API path in --cmdb-url', async (t) => {
  const { sn, env, common, flags } = await world(t);
  const withoutSource = flags.filter((flag, index) => flag !== '--servicenow-data-source' && flags[index - 1] !== '--servicenow-data-source');
  const noSource = await runHook(['register', ...withoutSource], { env });
  assert.equal(noSource.code, 2);
  assert.match(noSource.summary, /--servicenow-data-source \(CMDB_HOOK_SERVICENOW_DATA_SOURCE\) is required with --cmdb-kind servicenow/);

  const noAuth = await runHook(['deregister', ...common], { env });
  assert.equal(noAuth.code, 2);
  assert.match(noAuth.summary, /needs credentials: --cmdb-user .* with --cmdb-password-file .* or --cmdb-token-file/);

  const apiPath = await runHook(['register', ...flags.map((flag) => (flag === sn.url ? `${sn.url}/api/now` : flag))], { env });
  assert.equal(apiPath.code, 2);
  assert.match(apiPath.summary, /holds an API path; with --cmdb-kind servicenow give the instance URL/);
  assert.equal(sn.requests.length, 0);
});
