// --cmdb-kind template end to end: the built CLI, run the way the kubelet runs a hook, with the example
// templates of manifests/templates/ against stand-ins that enforce each API's documented contract
// (test/support/blueking-stand-in.ts, itop-stand-in.ts, consul-stand-in.ts cite their sources). The token must
// never show in any output of any run.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { BLUEKING_MODEL, startBlueking } from '../support/blueking-stand-in.ts';
import { startConsul } from '../support/consul-stand-in.ts';
import { startItop } from '../support/itop-stand-in.ts';
import { baseFlags, downwardEnv, podinfoDir, runHook, type HookRun } from '../support/run-hook.ts';
import type { StandIn } from '../support/stand-in.ts';

const TOKEN = 'tpl-secret-7Q2x9Lk4';
const TEMPLATES = new URL('../../manifests/templates/', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-template-e2e-'));
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, `${TOKEN}\n`);
const BLUEKING_FIELDS = ['--field', 'bk_app_code=cmdb-hook', '--field', 'bk_username=admin'];

/** A label value that would break or inject into a JSON document, a form or a template if pasted as text. */
const HOSTILE = 'say "hi" ${token} ${pod.uid} }{ \\" \\\\ back\\slash\nsecond line\ttab \'single\' </script> %s %22';

interface World<S extends StandIn> {
  cmdb: S;
  env: Record<string, string>;
  flags: string[];
  run: (command: 'register' | 'deregister', ...extra: string[]) => Promise<HookRun>;
}

/** A stand-in, a pod, and the flags of one example template; every run is checked for the token. */
function world<S extends StandIn>(t: TestContext, cmdb: S, template: string, options: { labels?: string; extra?: string[] } = {}): World<S> {
  const podinfo = podinfoDir({ labels: options.labels ?? 'app="shop"', annotations: '' });
  t.after(async () => {
    await cmdb.close();
    rmSync(podinfo, { recursive: true, force: true });
  });
  const env = downwardEnv();
  const flags = [...baseFlags(cmdb.url, podinfo), '--cmdb-kind', 'template', '--template-file', template, '--cmdb-token-file', tokenFile, ...(options.extra ?? [])];
  const run = async (command: 'register' | 'deregister', ...extra: string[]) => noToken(await runHook([command, ...flags, ...extra], { env }));
  return { cmdb, env, flags, run };
}

function noToken(run: HookRun): HookRun {
  assert.ok(!run.stdout.includes(TOKEN) && !run.stderr.includes(TOKEN), `the token appears in the output:\n${run.stdout}\n${run.stderr}`);
  assert.ok(!run.stderr.includes(TOKEN.slice(0, 10)), 'part of the token appears in the output');
  return run;
}

const calls = (cmdb: StandIn) => cmdb.requests.map((request) => `${request.method} ${request.path}`);
const itopOperations = (cmdb: StandIn) => cmdb.requests.map((request) => (JSON.parse(request.form?.get('json_data') ?? '{}') as { operation?: string }).operation);

test('blueking.json: register creates, register again updates the same instance, deregister deletes, and again finds nothing', async (t) => {
  const { cmdb, env, run } = world(t, await startBlueking({ appCode: 'cmdb-hook', appSecret: TOKEN }), join(TEMPLATES, 'blueking.json'), { extra: BLUEKING_FIELDS });
  const first = await run('register', '--strict');
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(calls(cmdb), ['POST /api/v3/search/instances/object/k8s_pod', 'POST /api/v3/create/instance/object/k8s_pod']);
  assert.match(first.summary, /registered as .* \(create: 200 OK\)/);
  assert.deepEqual(JSON.parse(String(cmdb.requests[0]?.headers['x-bkapi-authorization'])), { bk_app_code: 'cmdb-hook', bk_app_secret: TOKEN, bk_username: 'admin' });
  const [id, instance] = [...cmdb.instances.entries()][0] ?? [];
  assert.ok(id !== undefined && instance);
  assert.deepEqual(instance, {
    bk_inst_name: `${env.POD_UID}_app`, k8s_record_id: `${env.POD_UID}_app`, k8s_pod_uid: env.POD_UID, k8s_pod_name: 'web-0', k8s_namespace: 'shop', k8s_cluster: 'test-cluster',
    k8s_container: 'app', k8s_pod_ip: '10.244.3.17', k8s_node: 'node-a', k8s_app: 'shop', k8s_state: 'ready', k8s_observed_at: instance.k8s_observed_at,
  });

  const again = await run('register', '--strict');
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(calls(cmdb).slice(2), ['POST /api/v3/search/instances/object/k8s_pod', `PUT /api/v3/update/instance/object/k8s_pod/inst/${id}`]);
  assert.equal((cmdb.requests[3]?.json as { bk_inst_id: unknown }).bk_inst_id, id, '${found.id} as the whole string keeps its type: a number');
  assert.match(again.summary, new RegExp(`\\(update ${id}: 200 OK\\)`));
  assert.equal(cmdb.instances.size, 1);

  const removed = await run('deregister', '--strict');
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(calls(cmdb).slice(4), ['POST /api/v3/search/instances/object/k8s_pod', `DELETE /api/v3/delete/instance/object/k8s_pod/inst/${id}`]);
  assert.equal(cmdb.instances.size, 0);
  assert.match(removed.summary, /deleted record .* \(delete \d+: 200 OK\)/);

  const gone = await run('deregister', '--strict');
  assert.equal(gone.code, 0, gone.stderr);
  assert.deepEqual(calls(cmdb).slice(6), ['POST /api/v3/search/instances/object/k8s_pod']);
  assert.match(gone.summary, /found no record .* \(find: none, 200 OK\)/);
});

test('blueking.json: an overlapping delivery created the instance after our look-up: the refused create turns into an update', async (t) => {
  const { cmdb, run } = world(t, await startBlueking({ appCode: 'cmdb-hook', appSecret: TOKEN }), join(TEMPLATES, 'blueking.json'), { extra: BLUEKING_FIELDS });
  assert.equal((await run('register')).code, 0);
  // The other delivery's view: its look-up ran before the instance existed.
  cmdb.injectFault({ status: 200, body: { result: true, code: 0, message: 'success', permission: null, data: { info: [] } } });
  const late = await run('register', '--strict');
  assert.equal(late.code, 0, late.stderr);
  assert.deepEqual(calls(cmdb).slice(2).map((call) => call.split(' ')[0]), ['POST', 'POST', 'POST', 'PUT'], 'search (none), create (duplicate), search, update');
  assert.match(late.summary, /\(update \d+: 200 OK\)/);
  assert.equal(cmdb.instances.size, 1);
});

test('blueking.json: --deregister-action retire keeps the instance, marked terminated', async (t) => {
  const { cmdb, run } = world(t, await startBlueking({ appCode: 'cmdb-hook', appSecret: TOKEN }), join(TEMPLATES, 'blueking.json'), { extra: BLUEKING_FIELDS });
  assert.equal((await run('register')).code, 0);
  const retired = await run('deregister', '--deregister-action', 'retire', '--strict');
  assert.equal(retired.code, 0, retired.stderr);
  assert.match(retired.summary, /retired record/);
  assert.equal([...cmdb.instances.values()][0]?.k8s_state, 'terminated');
});

test('blueking.json: a 200 answer with result false is a refusal: reported, exit 0, or 4 with --strict, not retried', async (t) => {
  // The model lacks k8s_app: bk-cmdb validates instances against the model's attributes.
  const model = { id: 'k8s_pod', attributes: BLUEKING_MODEL.attributes.filter((attribute) => attribute !== 'k8s_app') };
  const { cmdb, run } = world(t, await startBlueking({ appCode: 'cmdb-hook', appSecret: TOKEN, model }), join(TEMPLATES, 'blueking.json'), { extra: BLUEKING_FIELDS });
  const open = await run('register');
  assert.equal(open.code, 0, open.stderr);
  assert.match(open.summary, /FAILED: POST http:\/\/127\.0\.0\.1:\d+\/api\/v3\/create\/instance\/object\/k8s_pod answered 200 OK \(create: result is false, the template expects true\): .*attribute k8s_app does not exist.*; exit 0 \(fail-open; --strict exits 4\)/);
  // The refused create is not retried; one more look-up checks that no overlapping delivery created the record.
  assert.deepEqual(calls(cmdb).map((call) => call.split('/')[3]), ['search', 'create', 'search']);
  const strict = await run('register', '--strict');
  assert.equal(strict.code, 4, strict.stderr);
  assert.equal(cmdb.instances.size, 0);
});

test('blueking.json: wrong app secret -> the gateway refuses (401), exit 4 with --strict', async (t) => {
  const { run } = world(t, await startBlueking({ appCode: 'cmdb-hook', appSecret: 'another-secret' }), join(TEMPLATES, 'blueking.json'), { extra: BLUEKING_FIELDS });
  const strict = await run('register', '--strict');
  assert.equal(strict.code, 4, strict.stderr);
  assert.match(strict.summary, /search\/instances\/object\/k8s_pod answered 401 Unauthorized/);
});

test('itop.json: form-encoded json_data with a comment; core/get then core/create, core/update, core/delete; absent is success', async (t) => {
  const { cmdb, env, run } = world(t, await startItop({ token: TOKEN }), join(TEMPLATES, 'itop.json'));
  const first = await run('register', '--strict');
  assert.equal(first.code, 0, first.stderr);
  assert.deepEqual(itopOperations(cmdb), ['core/get', 'core/create']);
  for (const request of cmdb.requests) {
    assert.equal(request.url, '/webservices/rest.php?version=1.3');
    assert.equal(request.headers['content-type'], 'application/x-www-form-urlencoded');
    assert.equal(request.headers['auth-token'], TOKEN);
  }
  const [id, object] = [...cmdb.objects.entries()][0] ?? [];
  assert.ok(id !== undefined && object);
  assert.deepEqual(object, {
    name: 'shop/web-0/app', k8s_record_id: `${env.POD_UID}_app`, pod_uid: env.POD_UID, namespace: 'shop', cluster: 'test-cluster', container: 'app',
    pod_ip: '10.244.3.17', node_name: 'node-a', app: 'shop', k8s_state: 'ready', observed_at: object.observed_at,
  });
  assert.equal((JSON.parse(cmdb.requests[1]?.form?.get('json_data') ?? '') as { comment: string }).comment, 'cmdb-hook 0.1.0: postStart of shop/web-0 container app');

  const again = await run('register', '--strict');
  assert.equal(again.code, 0, again.stderr);
  assert.deepEqual(itopOperations(cmdb).slice(2), ['core/get', 'core/update']);
  assert.match(again.summary, new RegExp(`\\(update ${id}: 200 OK\\)`));
  assert.equal(cmdb.objects.size, 1);

  const removed = await run('deregister', '--strict');
  assert.equal(removed.code, 0, removed.stderr);
  assert.deepEqual(itopOperations(cmdb).slice(4), ['core/get', 'core/delete']);
  assert.equal(cmdb.objects.size, 0);
  const gone = await run('deregister', '--strict');
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(gone.summary, /found no record/);
});

test('itop.json: code != 0 in a 200 answer is a refusal: reported, exit 0, or 4 with --strict', async (t) => {
  const { cmdb, run } = world(t, await startItop({ token: TOKEN, attributes: ['name', 'k8s_record_id'] }), join(TEMPLATES, 'itop.json'));
  const open = await run('register');
  assert.equal(open.code, 0, open.stderr);
  assert.match(open.summary, /FAILED: POST .*\/webservices\/rest\.php\?version=1\.3 answered 200 OK \(create: code is 100, the template expects 0\): .*Invalid attribute code 'pod_uid'.*; exit 0 \(fail-open; --strict exits 4\)/);
  const strict = await run('register', '--strict');
  assert.equal(strict.code, 4, strict.stderr);
  assert.equal(cmdb.objects.size, 0);
});

test('consul.json: an idempotent PUT without look-up; deregister twice, the second finds nothing (404)', async (t) => {
  const { cmdb, env, run } = world(t, await startConsul({ token: TOKEN }), join(TEMPLATES, 'consul.json'));
  for (const attempt of [1, 2]) {
    const registered = await run('register', '--strict');
    assert.equal(registered.code, 0, `attempt ${attempt}: ${registered.stderr}`);
    assert.match(registered.summary, /\(200 OK\)/);
  }
  assert.deepEqual(calls(cmdb), ['PUT /v1/agent/service/register', 'PUT /v1/agent/service/register']);
  assert.equal(cmdb.requests[0]?.headers['x-consul-token'], TOKEN);
  assert.deepEqual([...cmdb.services.keys()], [`${env.POD_UID}_app`]);
  const service = cmdb.services.get(`${env.POD_UID}_app`);
  assert.equal(service?.Name, 'shop');
  assert.equal(service?.Address, '10.244.3.17');
  assert.deepEqual(service?.Tags, ['k8s', 'test-cluster', 'shop']);

  const removed = await run('deregister', '--strict');
  assert.equal(removed.code, 0, removed.stderr);
  assert.equal(cmdb.requests.at(-1)?.path, `/v1/agent/service/deregister/${env.POD_UID}_app`);
  assert.equal(cmdb.services.size, 0);
  assert.match(removed.summary, /deleted record/);
  const gone = await run('deregister', '--strict');
  assert.equal(gone.code, 0, gone.stderr);
  assert.match(gone.summary, /found no record .* \(404 Not Found\)/);
});

test('consul.json: 503 then success: the one retry layer tries again', async (t) => {
  const { cmdb, run } = world(t, await startConsul({ token: TOKEN }), join(TEMPLATES, 'consul.json'));
  cmdb.injectFault({ status: 503, body: 'No cluster leader', headers: { 'retry-after': '0' } }, 2);
  const registered = await run('register', '--strict');
  assert.equal(registered.code, 0, registered.stderr);
  assert.equal(cmdb.requests.length, 3);
  assert.equal(cmdb.services.size, 1);
  assert.equal(registered.logs.filter((line) => String(line.msg).includes('retrying')).length, 2);
});

test('blueking.json: a 503 on the look-up retries the whole attempt', async (t) => {
  const { cmdb, run } = world(t, await startBlueking({ appCode: 'cmdb-hook', appSecret: TOKEN }), join(TEMPLATES, 'blueking.json'), { extra: BLUEKING_FIELDS });
  cmdb.injectFault({ status: 503, body: 'upstream unavailable' });
  const registered = await run('register', '--strict');
  assert.equal(registered.code, 0, registered.stderr);
  assert.deepEqual(calls(cmdb).map((call) => call.split('/').slice(3, 5).join('/')), ['search/instances', 'search/instances', 'create/instance']);
  assert.equal(cmdb.instances.size, 1);
});

test('a hostile label value arrives byte-exact in JSON bodies, forms and Consul, and injects nothing', async (t) => {
  // The labels file in the kubelet's format (Go %q quoting, which JSON.stringify matches for these characters).
  const labels = `app=${JSON.stringify(HOSTILE)}\nevil.example.com/key=${JSON.stringify(HOSTILE)}`;
  const blueking = world(t, await startBlueking({ appCode: 'cmdb-hook', appSecret: TOKEN }), join(TEMPLATES, 'blueking.json'), { labels, extra: BLUEKING_FIELDS });
  assert.equal((await blueking.run('register', '--strict')).code, 0);
  const [instance] = blueking.cmdb.instances.values();
  assert.equal(instance?.k8s_app, HOSTILE);
  assert.deepEqual(Object.keys(instance ?? {}), BLUEKING_MODEL.attributes, 'no attribute added or lost');

  const itop = world(t, await startItop({ token: TOKEN }), join(TEMPLATES, 'itop.json'), { labels });
  assert.equal((await itop.run('register', '--strict')).code, 0);
  const [object] = itop.cmdb.objects.values();
  assert.equal(object?.app, HOSTILE);
  assert.equal(object?.pod_uid, itop.env.POD_UID);

  const consul = world(t, await startConsul({ token: TOKEN }), join(TEMPLATES, 'consul.json'), { labels });
  assert.equal((await consul.run('register', '--strict')).code, 0);
  assert.equal([...consul.cmdb.services.values()][0]?.Name, HOSTILE);

  // A template of our own: the label in a path segment, in a longer string, and all labels as one object.
  const own = join(dir, 'own.json');
  writeFileSync(own, JSON.stringify({
    headers: { 'X-Consul-Token': '${token}' },
    create: { method: 'PUT', path: '/v1/agent/service/register?note=${labels.evil.example.com/key}', json: { Name: 'x', ID: 'id-${labels.app}-end', Meta: { labels: 'all: ${labels}' }, Tags: ['${labels.app}'] } },
    delete: { method: 'PUT', path: '/v1/agent/service/deregister/${labels.app}', gone: [404] },
  }));
  const mine = world(t, await startConsul({ token: TOKEN }), own, { labels });
  assert.equal((await mine.run('register', '--strict')).code, 0);
  const sent = mine.cmdb.requests[0];
  assert.equal(sent?.query.get('note'), HOSTILE);
  assert.deepEqual(sent?.json, { Name: 'x', ID: `id-${HOSTILE}-end`, Meta: { labels: `all: ${JSON.stringify({ app: HOSTILE, 'evil.example.com/key': HOSTILE })}` }, Tags: [HOSTILE] });
  const removed = await mine.run('deregister', '--strict');
  assert.match(removed.summary, /found no record/, 'the hostile id is one path segment, which the stand-in does not know');
  assert.equal(decodeURIComponent(mine.cmdb.requests[1]?.path.split('/').at(-1) ?? ''), HOSTILE);
});

test('--dry-run prints every request it may send, token masked, and sends nothing', async (t) => {
  const { cmdb, run } = world(t, await startBlueking({ appCode: 'cmdb-hook', appSecret: TOKEN }), join(TEMPLATES, 'blueking.json'), { extra: BLUEKING_FIELDS });
  const planned = await run('register', '--dry-run');
  assert.equal(planned.code, 0, planned.stderr);
  const plan = JSON.parse(planned.stdout) as Record<string, { method: string; url: string; headers: Record<string, string>; body?: unknown }>;
  assert.deepEqual(Object.keys(plan), ['find', 'ifFound', 'ifNotFound']);
  assert.equal(plan.ifFound?.url, `${cmdb.url}/api/v3/update/instance/object/k8s_pod/inst/<found.id>`);
  assert.deepEqual(JSON.parse(plan.find?.headers['x-bkapi-authorization'] ?? ''), { bk_app_code: 'cmdb-hook', bk_app_secret: '***', bk_username: 'admin' });
  const deregister = JSON.parse((await run('deregister', '--dry-run', '--deregister-action', 'retire')).stdout) as Record<string, unknown>;
  assert.deepEqual(Object.keys(deregister), ['find', 'ifFound', 'ifNotFound']);
  assert.equal(cmdb.requests.length, 0);

  const itop = world(t, await startItop({ token: TOKEN }), join(TEMPLATES, 'itop.json'));
  const itopPlan = JSON.parse((await itop.run('deregister', '--dry-run')).stdout) as { ifFound: { headers: Record<string, string>; form: { json_data: string } } };
  assert.equal(itopPlan.ifFound.headers['auth-token'], '***');
  assert.equal((JSON.parse(itopPlan.ifFound.form.json_data) as { key: unknown }).key, '<found.id>');
  assert.equal(itop.cmdb.requests.length, 0);
});

test('an error body that echoes the token is masked', async (t) => {
  const { cmdb, run } = world(t, await startConsul({ token: TOKEN }), join(TEMPLATES, 'consul.json'));
  cmdb.injectFault({ status: 400, body: `bad request from token ${TOKEN} (${encodeURIComponent(TOKEN)})` });
  const rejected = await run('register', '--strict');
  assert.equal(rejected.code, 4);
  assert.match(rejected.summary, /answered 400 Bad Request: bad request from token \*\*\* \(\*\*\*\)/);
});

test('a path value that is empty, . or .. is refused, never sent to another resource', async (t) => {
  // Percent-encoding keeps '..' as it is and URL parsing walks up: a delete keyed by an annotation set to '..' would
  // go to the collection. The pod's values decide it, so it is a refusal (exit 0, 4 with --strict), not exit 2.
  const file = join(dir, 'dotted-path.json');
  writeFileSync(file, JSON.stringify({ create: { method: 'PUT', path: '/v1/agent/service/register', json: { ID: '${id}' } }, delete: { method: 'PUT', path: '/v1/agent/service/deregister/${annotations.service}' } }));
  const cmdb = await startConsul({ token: TOKEN });
  const podinfo = podinfoDir({ labels: 'app="shop"', annotations: 'service=".."' });
  t.after(async () => {
    await cmdb.close();
    rmSync(podinfo, { recursive: true, force: true });
  });
  const run = noToken(await runHook(['deregister', ...baseFlags(cmdb.url, podinfo), '--cmdb-kind', 'template', '--template-file', file, '--cmdb-token-file', tokenFile, '--strict'], { env: downwardEnv() }));
  assert.equal(run.code, 4, run.stderr);
  assert.match(run.summary, /path \/v1\/agent\/service\/deregister\/\$\{annotations\.service\} cannot be sent: \$\{annotations\.service\} is "\.\."/);
  assert.equal(cmdb.requests.length, 0);
});

test('a pod value that would put a line break into a text header is refused: exit 0, 4 with --strict, nothing sent', async (t) => {
  const file = join(dir, 'label-header.json');
  writeFileSync(file, JSON.stringify({ headers: { 'X-Consul-Token': '${token}', 'X-App': '${labels.app}' }, create: { method: 'PUT', path: '/v1/agent/service/register', json: { ID: '${id}' } }, delete: { method: 'PUT', path: '/v1/agent/service/deregister/${id}' } }));
  const { cmdb, run } = world(t, await startConsul({ token: TOKEN }), file, { labels: 'app="shop\\r\\nX-Injected: yes"' });
  const lenient = await run('register');
  assert.equal(lenient.code, 0, lenient.stderr);
  assert.match(lenient.summary, /header x-app would hold a control or non-ASCII character .*; exit 0 \(fail-open; --strict exits 4\)$/);
  const strict = await run('register', '--strict');
  assert.equal(strict.code, 4, strict.stderr);
  assert.match(strict.summary, /header x-app would hold a control or non-ASCII character .*; exit 4$/);
  assert.equal(cmdb.requests.length, 0);
});

interface BadTemplate {
  name: string;
  content: string;
  command?: 'register' | 'deregister';
  args?: string[];
  message: RegExp;
}

const BAD: BadTemplate[] = [
  { name: 'an unknown placeholder', content: JSON.stringify({ create: { method: 'PUT', path: '/r', json: { owner: '${labels.team} ${pod.nmae}' } }, delete: { method: 'DELETE', path: '/r' } }), message: /\$\.create\.json\.owner: unknown placeholder \$\{pod\.nmae\}/ },
  { name: 'not JSON', content: '{"create": {"method": "PUT",}', message: /is not valid JSON/ },
  { name: 'a wrong method deep inside', content: JSON.stringify({ create: { method: 'PUT', path: '/r' }, delete: { method: 'REMOVE', path: '/r' } }), command: 'deregister', message: /: \$\.delete\.method: must be one of GET, PUT, POST, PATCH, DELETE, not "REMOVE"/ },
  { name: 'update without find', content: JSON.stringify({ create: { method: 'PUT', path: '/r' }, update: { method: 'PUT', path: '/r' }, delete: { method: 'DELETE', path: '/r' } }), message: /: \$\.update: needs \$\.find/ },
  { name: '${token} without --cmdb-token-file', content: JSON.stringify({ headers: { 'X-Consul-Token': '${token}' }, create: { method: 'PUT', path: '/r' }, delete: { method: 'DELETE', path: '/r' } }), args: ['--no-token'], message: /uses \$\{token\}, but --cmdb-token-file \(CMDB_HOOK_CMDB_TOKEN_FILE\) is not set/ },
  { name: 'retire asked, none in the template', content: JSON.stringify({ create: { method: 'PUT', path: '/r' }, delete: { method: 'DELETE', path: '/r' } }), command: 'deregister', args: ['--deregister-action', 'retire'], message: /--deregister-action \(CMDB_HOOK_DEREGISTER_ACTION\) is retire, but --template-file .* has no "retire" request/ },
];

for (const bad of BAD) {
  test(`a template with ${bad.name} -> exit 2, one line naming the file and the problem, nothing sent`, async (t) => {
    const file = join(dir, `bad-${BAD.indexOf(bad)}.json`);
    writeFileSync(file, bad.content);
    const cmdb = await startConsul({ token: TOKEN });
    const podinfo = podinfoDir({ labels: 'app="shop"' });
    t.after(async () => {
      await cmdb.close();
      rmSync(podinfo, { recursive: true, force: true });
    });
    const withToken = !bad.args?.includes('--no-token');
    const args = [bad.command ?? 'register', ...baseFlags(cmdb.url, podinfo), '--cmdb-kind', 'template', '--template-file', file, ...(withToken ? ['--cmdb-token-file', tokenFile] : []), ...(bad.args ?? []).filter((arg) => arg !== '--no-token')];
    // register would wait for this port if the template were accepted: a config error must come first.
    if (args[0] === 'register') args.push('--ready-tcp', '1');
    const run = noToken(await runHook(args, { env: downwardEnv() }));
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr);
    assert.ok(run.summary.includes(file), run.summary);
    assert.match(run.summary, bad.message);
    assert.equal(cmdb.requests.length, 0);
  });
}
