// --cmdb-kind netbox: pod IPs as IP addresses in NetBox IPAM, against a stand-in that enforces NetBox's
// contract (test/support/netbox-stand-in.ts cites the sources). The real CLI is spawned the way the kubelet would.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { startNetboxStandIn, type NetboxStandIn, type NetboxStandInOptions } from '../support/netbox-stand-in.ts';
import { baseFlags, downwardEnv, podinfoDir, runHook, type HookRun, type PodFixture } from '../support/run-hook.ts';

const V2_TOKEN = 'nbt_Ab12Cd34Ef56.V2secretPart0123456789abcdefABCDEF0123';
const V1_TOKEN = '0123456789abcdef0123456789abcdef01234567';
const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-netbox-'));
const v2File = join(dir, 'v2-token');
const v1File = join(dir, 'v1-token');
writeFileSync(v2File, `${V2_TOKEN}\n`);
writeFileSync(v1File, V1_TOKEN);
const IPS = '/api/ipam/ip-addresses/';

interface NetboxScene {
  nb: NetboxStandIn;
  env: Record<string, string>;
  /** baseFlags plus --cmdb-kind netbox and the v2 token file. */
  flags: string[];
  podinfo: string;
}

async function netbox(t: TestContext, options: NetboxStandInOptions = {}, pod: PodFixture = {}): Promise<NetboxScene> {
  const nb = await startNetboxStandIn({ v1Tokens: [V1_TOKEN], v2Tokens: [V2_TOKEN], tags: ['k8s', 'pods'], tenants: ['team-a'], vrfs: [{ name: 'pods', enforceUnique: true }], ...options });
  const podinfo = podinfoDir({ labels: 'app="shop"', annotations: '' });
  t.after(async () => {
    await nb.close();
    rmSync(podinfo, { recursive: true, force: true });
  });
  const flags = [...baseFlags(nb.url, podinfo), '--cmdb-kind', 'netbox', '--cmdb-token-file', v2File];
  return { nb, env: downwardEnv(pod), flags, podinfo };
}

function bodyOf(nb: NetboxStandIn, index: number): Record<string, unknown> {
  return nb.writes()[index]?.json as Record<string, unknown>;
}

function assertNoSecret(run: HookRun) {
  for (const secret of [V2_TOKEN, V2_TOKEN.split('.')[1] ?? '', V1_TOKEN]) {
    assert.ok(!run.stdout.includes(secret) && !run.stderr.includes(secret), 'a token appears in the output');
  }
}

test('the stand-in enforces NetBox\'s contract: auth, trailing slashes, required fields, paging', async (t) => {
  const { nb } = await netbox(t);
  const v2 = { authorization: `Bearer ${V2_TOKEN}`, 'content-type': 'application/json' };
  const anonymous = await fetch(`${nb.url}${IPS}`);
  assert.equal(anonymous.status, 403);
  assert.deepEqual(await anonymous.json(), { detail: 'Authentication credentials were not provided.' });
  assert.deepEqual(await (await fetch(`${nb.url}${IPS}`, { headers: { authorization: `Token ${V2_TOKEN}` } })).json(), { detail: 'Invalid v1 token' });
  const noSlash = await fetch(`${nb.url}/api/ipam/ip-addresses`, { method: 'POST', headers: v2, body: '{"address":"10.0.0.1/32"}', redirect: 'manual' });
  assert.equal(noSlash.status, 301);
  assert.equal(nb.ips.size, 0, 'a write without the trailing slash changes nothing');
  const missing = await fetch(`${nb.url}${IPS}`, { method: 'POST', headers: v2, body: '{"status":"active"}' });
  assert.equal(missing.status, 400);
  assert.deepEqual(await missing.json(), { address: ['This field is required.'] });
  for (const host of ['10.0.0.1', '10.0.0.2', '10.0.0.3']) nb.seed({ address: `${host}/24` });
  const page = (await (await fetch(`${nb.url}${IPS}?limit=2`, { headers: v2 })).json()) as { count: number; next: string | null; previous: null; results: unknown[] };
  assert.equal(page.count, 3);
  assert.equal(page.results.length, 2);
  assert.match(page.next ?? '', /limit=2&offset=2/);
  const byHost = (await (await fetch(`${nb.url}${IPS}?address=10.0.0.2`, { headers: v2 })).json()) as { count: number };
  assert.equal(byHost.count, 1, 'an address without a mask matches any mask');
  const deleted = await fetch(`${nb.url}${IPS}1/`, { method: 'DELETE', headers: v2 });
  assert.equal(deleted.status, 204);
  assert.equal(await deleted.text(), '');
});

test('register creates the IP address: /32, active, dns_name, description, tags, tenant, custom fields; v2 token as Bearer', async (t) => {
  const { nb, env, flags } = await netbox(t, { customFields: ['k8s_pod_uid', 'owner'] });
  const run = await runHook(['register', ...flags, '--netbox-tag', 'k8s', '--netbox-tag', 'pods', '--netbox-tenant', 'team-a', '--field', 'owner=team payments', '--app', 'checkout'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(nb.requests.map((request) => `${request.method} ${request.path}`), [`GET ${IPS}`, `GET ${IPS}`, `POST ${IPS}`]);
  assert.equal(nb.requests[0]?.query.get('cf_k8s_pod_uid'), env.POD_UID);
  assert.equal(nb.requests[1]?.query.get('address'), '10.244.3.17');
  assert.equal(nb.requests[1]?.query.get('vrf_id'), 'null', 'the global table');
  assert.ok(nb.requests.every((request) => request.headers.authorization === `Bearer ${V2_TOKEN}`));
  assert.deepEqual(bodyOf(nb, 0), {
    address: '10.244.3.17/32',
    status: 'active',
    dns_name: 'web-0.shop',
    description: 'k8s test-cluster/shop/web-0 container app, app checkout',
    tenant: { slug: 'team-a' },
    tags: [{ slug: 'k8s' }, { slug: 'pods' }],
    custom_fields: { owner: 'team payments', k8s_pod_uid: env.POD_UID },
  });
  const [stored] = nb.ips.values();
  assert.deepEqual(stored?.custom_field_data, { k8s_pod_uid: env.POD_UID, owner: 'team payments' });
  assert.deepEqual([stored?.tenant, stored?.tags, stored?.status], ['team-a', ['k8s', 'pods'], 'active']);
  assert.match(run.summary, /registered as .* \(201 Created 10\.244\.3\.17\/32 \(id 1\)\)/);
});

test('register twice: one IP address, updated with PATCH on its detail path (the hook may be delivered twice)', async (t) => {
  const { nb, env, flags } = await netbox(t);
  assert.equal((await runHook(['register', ...flags], { env })).code, 0);
  const again = await runHook(['register', ...flags], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.equal(nb.ips.size, 1);
  assert.deepEqual(nb.writes().map((request) => `${request.method} ${request.path}`), [`POST ${IPS}`, `PATCH ${IPS}1/`]);
  assert.match(again.summary, /\(200 OK 10\.244\.3\.17\/32 \(id 1\)\)/);
});

test('a v1 token goes as "Token <key>"; a wrong one is a 403 that names the token file; none at all is a config error', async (t) => {
  const { nb, env, flags } = await netbox(t);
  const v1 = flags.map((flag) => (flag === v2File ? v1File : flag));
  const run = await runHook(['register', ...v1], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.ok(nb.requests.every((request) => request.headers.authorization === `Token ${V1_TOKEN}`));

  const wrong = join(dir, 'wrong-token');
  writeFileSync(wrong, 'nbt_nope.wrongsecret');
  const rejected = await runHook(['register', ...flags.map((flag) => (flag === v2File ? wrong : flag)), '--strict'], { env });
  assert.equal(rejected.code, 4);
  assert.match(rejected.summary, /FAILED: check the NetBox token in --cmdb-token-file .*answered 403 Forbidden: \{"detail":"Invalid v2 token"\}/);

  const without = flags.slice(0, -2);
  const missing = await runHook(['register', ...without], { env });
  assert.equal(missing.code, 2);
  assert.match(missing.summary, /--cmdb-token-file \(CMDB_HOOK_CMDB_TOKEN_FILE\) is required with --cmdb-kind netbox/);
});

test('dual-stack: one IP address per family, /32 and /128, both with the pod UID; deregister deletes both', async (t) => {
  const { nb, env, flags } = await netbox(t, {}, { ip: '10.244.3.17', ips: '10.244.3.17,fd00:0:0::17' });
  const run = await runHook(['register', ...flags], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual([...nb.ips.values()].map((ip) => [ip.address, ip.custom_field_data.k8s_pod_uid]), [['10.244.3.17/32', env.POD_UID], ['fd00::17/128', env.POD_UID]]);
  assert.equal((await runHook(['register', ...flags], { env })).code, 0);
  assert.equal(nb.ips.size, 2, 're-register finds both by UID');
  const gone = await runHook(['deregister', ...flags], { env });
  assert.equal(gone.code, 0, gone.stderr);
  assert.equal(nb.ips.size, 0);
  assert.deepEqual(nb.writes().filter((request) => request.method === 'DELETE').map((request) => request.path), [`${IPS}1/`, `${IPS}2/`]);
});

test('a reused IP: the dead pod\'s leftover record is taken over with PATCH, not duplicated', async (t) => {
  const { nb, env, flags } = await netbox(t);
  const dead = randomUUID();
  nb.seed({ address: '10.244.3.17/32', status: 'deprecated', dns_name: 'old-0.shop', custom_field_data: { k8s_pod_uid: dead } });
  const run = await runHook(['register', ...flags], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(nb.writes().map((request) => `${request.method} ${request.path}`), [`PATCH ${IPS}1/`]);
  const [ip] = nb.ips.values();
  assert.deepEqual([ip?.custom_field_data.k8s_pod_uid, ip?.status, ip?.dns_name], [env.POD_UID, 'active', 'web-0.shop']);
  assert.match(run.summary, new RegExp(`taken over from dead pod ${dead}`));
});

test('a leftover that appears between look-up and POST: NetBox\'s duplicate-IP 400 leads to taking it over', async (t) => {
  const { nb, env, flags } = await netbox(t);
  const dead = randomUUID();
  nb.before = (request) => {
    if (request.method !== 'POST') return;
    nb.before = undefined;
    nb.seed({ address: '10.244.3.17/24', custom_field_data: { k8s_pod_uid: dead } });
  };
  const run = await runHook(['register', ...flags], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(nb.writes().map((request) => `${request.method} ${request.path}`), [`POST ${IPS}`, `PATCH ${IPS}1/`]);
  assert.equal(nb.ips.size, 1);
  assert.deepEqual([...nb.ips.values()].map((ip) => [ip.address, ip.custom_field_data.k8s_pod_uid]), [['10.244.3.17/32', env.POD_UID]]);
});

test('a hand-made IP address at the pod\'s address (no k8s_pod_uid) is left alone: exit 0, 4 with --strict', async (t) => {
  const { nb, env, flags } = await netbox(t);
  nb.seed({ address: '10.244.3.17/24', description: 'gateway, do not touch' });
  const run = await runHook(['register', ...flags], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.summary, /FAILED: delete NetBox IP address 10\.244\.3\.17\/24 \(id 1\) or set its k8s_pod_uid to .*has no k8s_pod_uid.*exit 0 \(fail-open; --strict exits 4\)/);
  const strict = await runHook(['register', ...flags, '--strict'], { env });
  assert.equal(strict.code, 4);
  assert.equal(nb.writes().length, 0);
  assert.equal(nb.ips.get(1)?.description, 'gateway, do not touch');
});

test('deregister deletes this pod\'s IP address (204); again: nothing there, success', async (t) => {
  const { nb, env, flags } = await netbox(t);
  await runHook(['register', ...flags], { env });
  const run = await runHook(['deregister', ...flags], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(nb.ips.size, 0);
  assert.deepEqual(nb.writes().at(-1)?.path, `${IPS}1/`);
  assert.match(run.summary, /deleted record .* \(204 No Content 10\.244\.3\.17\/32 \(id 1\)\)/);
  const again = await runHook(['deregister', ...flags, '--strict'], { env });
  assert.equal(again.code, 0, again.stderr);
  assert.match(again.summary, /found no record .*no IP address in NetBox has k8s_pod_uid/);
});

test('--deregister-action retire keeps the IP address with status deprecated', async (t) => {
  const { nb, env, flags } = await netbox(t);
  await runHook(['register', ...flags], { env });
  const run = await runHook(['deregister', ...flags, '--deregister-action', 'retire'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(bodyOf(nb, 1), { status: 'deprecated' });
  assert.equal(nb.writes()[1]?.method, 'PATCH');
  assert.deepEqual([nb.ips.get(1)?.status, nb.ips.get(1)?.custom_field_data.k8s_pod_uid], ['deprecated', env.POD_UID]);
  assert.match(run.summary, /retired record/);
});

test('the UID guard: a late deregister of the old pod leaves the newer pod\'s IP address alone', async (t) => {
  const { nb, flags } = await netbox(t);
  const old = downwardEnv({ name: 'web-0', uid: randomUUID() });
  const next = downwardEnv({ name: 'web-0', uid: randomUUID() });
  assert.equal((await runHook(['register', ...flags], { env: old })).code, 0);
  assert.equal((await runHook(['register', ...flags], { env: next })).code, 0);
  const late = await runHook(['deregister', ...flags, '--strict'], { env: old });
  assert.equal(late.code, 0, late.stderr);
  assert.ok(!nb.writes().some((request) => request.method === 'DELETE'), 'no DELETE was sent');
  assert.equal(nb.ips.get(1)?.custom_field_data.k8s_pod_uid, next.POD_UID);
  assert.match(late.summary, new RegExp(`left the record of .* alone: IP address 10\\.244\\.3\\.17/32 \\(id 1\\) now has k8s_pod_uid ${next.POD_UID}, a newer pod`));
  assert.ok(late.logs.some((line) => line.msg === 'left the CMDB record alone'));
});

test('the UID guard on deregister when NetBox ignores the cf_ filter (filter logic Disabled): another pod\'s address is never touched', async (t) => {
  const { nb, env, flags } = await netbox(t, { unfilterable: ['k8s_pod_uid'] });
  const other = nb.seed({ address: '10.244.9.9/32', custom_field_data: { k8s_pod_uid: randomUUID() } });
  for (const action of ['delete', 'retire']) {
    const run = await runHook(['deregister', ...flags, '--deregister-action', action, '--strict'], { env });
    // The agent sees that the list is not this pod's and stops, saying what to fix; nothing is changed.
    assert.equal(run.code, 4, run.stderr);
    assert.match(run.summary, /set the filter logic of custom field k8s_pod_uid to Exact .*nothing was changed/);
  }
  assert.deepEqual(nb.writes(), [], 'no DELETE and no PATCH');
  assert.equal(nb.ips.get(other.id)?.status, 'active');
});

test('a hostNetwork pod (POD_IP is HOST_IP) is refused at once: its address is the node\'s, not its own', async (t) => {
  const { nb, env, flags } = await netbox(t);
  const run = await runHook(['register', ...flags], { env: { ...env, POD_IP: '192.0.2.7', POD_IPS: '192.0.2.7', HOST_IP: '192.0.2.7' } });
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.summary, /POD_IP 192\.0\.2\.7 is the node's address \(HOST_IP\)/);
  assert.equal(nb.requests.length, 0);
});

test('a missing custom field is a config problem that names what to create: exit 0, 4 with --strict, nothing retried', async (t) => {
  const { nb, env, flags } = await netbox(t, { customFields: [] });
  const run = await runHook(['register', ...flags], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.match(run.summary, /FAILED: create custom field k8s_pod_uid in NetBox \(Customization > Custom Fields: type Text, object type IPAM > IP Address, filter logic Exact.*\): POST .* answered 400 Bad Request: .*does not exist for this object type/);
  const strict = await runHook(['register', ...flags, '--strict'], { env });
  assert.equal(strict.code, 4);
  assert.equal(nb.requests.filter((request) => request.method === 'POST').length, 2, 'one POST per run: a config problem is not retried');

  // With IP addresses in NetBox, the unknown cf_ filter is ignored and lists them all: caught before any write.
  nb.seed({ address: '192.0.2.1/24' });
  const ignored = await runHook(['register', ...flags, '--strict'], { env });
  assert.equal(ignored.code, 4);
  assert.match(ignored.summary, /FAILED: create custom field k8s_pod_uid in NetBox .*NetBox ignored the filter/);
  assert.equal(nb.requests.at(-1)?.method, 'GET');
});

test('an unknown tag, tenant or VRF names the object to create', async (t) => {
  const { env, flags } = await netbox(t);
  const run = await runHook(['register', ...flags, '--netbox-tag', 'k8s', '--netbox-tag', 'nope', '--netbox-tenant', 'team-z', '--netbox-vrf', 'blue', '--strict'], { env });
  assert.equal(run.code, 4);
  assert.match(run.summary, /FAILED: create tenant with slug team-z in NetBox \(Organization > Tenants\), or fix --netbox-tenant .*; create VRF blue in NetBox \(IPAM > VRFs\).*; create tag with slug nope in NetBox \(Customization > Tags\)/);
  assert.ok(!/slug k8s/.test(run.summary), 'the tag that exists is not named');
});

test('--netbox-vrf: looked up by address, kept only in that VRF; created there', async (t) => {
  const { nb, env, flags } = await netbox(t);
  const other = randomUUID();
  nb.seed({ address: '10.244.3.17/32', custom_field_data: { k8s_pod_uid: other } }); // in the global table: not in the way
  const run = await runHook(['register', ...flags, '--netbox-vrf', 'pods'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(nb.requests[1]?.query.get('vrf_id'), null, 'no VRF-name filter exists: checked on the answer');
  assert.deepEqual(bodyOf(nb, 0).vrf, { name: 'pods' });
  assert.deepEqual([...nb.ips.values()].map((ip) => [ip.vrf, ip.custom_field_data.k8s_pod_uid]), [[null, other], ['pods', env.POD_UID]]);
});

test('503 twice, then success: the whole attempt is retried by the one retry layer', async (t) => {
  const { nb, env, flags } = await netbox(t);
  nb.injectFault({ status: 503, body: { detail: 'maintenance' } }, 2);
  const run = await runHook(['register', ...flags, '--strict'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(nb.ips.size, 1);
  assert.equal(run.logs.filter((line) => String(line.msg).includes('retrying')).length, 2);
});

test('--dry-run sends nothing and prints the look-ups and both writes, token masked; works without --cmdb-url', async (t) => {
  const { nb, env, flags, podinfo } = await netbox(t);
  const run = await runHook(['register', ...flags, '--dry-run', '--netbox-tag', 'k8s'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(nb.requests.length, 0);
  const plan = JSON.parse(run.stdout) as { steps: { method: string; url: string; headers: Record<string, string>; body?: unknown }[] };
  assert.deepEqual(plan.steps.map((step) => step.method), ['GET', 'GET', 'PATCH', 'POST']);
  assert.equal(plan.steps[2]?.url, `${nb.url}${IPS}{id}/`);
  assert.equal(plan.steps[0]?.headers.authorization, 'Bearer ***');
  assertNoSecret(run);

  const noUrl = [...baseFlags(nb.url, podinfo).slice(2), '--cmdb-kind', 'netbox', '--cmdb-token-file', v1File];
  const gone = await runHook(['deregister', ...noUrl, '--dry-run'], { env });
  assert.equal(gone.code, 0, gone.stderr);
  const steps = (JSON.parse(gone.stdout) as typeof plan).steps;
  assert.deepEqual(steps.map((step) => `${step.method} ${step.url.split('?')[0]}`), [`GET <cmdb-url>${IPS}`, `DELETE <cmdb-url>${IPS}{id}/`]);
  assert.equal(steps[0]?.headers.authorization, 'Token ***');
});

test('the token never shows, even when NetBox echoes it in an error body', async (t) => {
  const { nb, env, flags } = await netbox(t);
  nb.injectFault({ status: 503, body: `proxy saw Authorization: Bearer ${V2_TOKEN}` });
  nb.injectFault({ status: 400, body: { detail: `bad header Bearer ${V2_TOKEN} (${V2_TOKEN.split('.')[1]})` } });
  const run = await runHook(['register', ...flags, '--log-level', 'trace'], { env });
  assert.equal(run.code, 0);
  assert.match(run.summary, /FAILED: .*answered 400 Bad Request: .*Bearer \*\*\*/);
  assertNoSecret(run);
  assert.ok(nb.requests.every((request) => request.path.endsWith('/')), 'every path ends with its slash');
});

test('no pod IP at all: a config error naming POD_IP; a --field NetBox cannot hold is one too', async (t) => {
  const { env, flags } = await netbox(t);
  const noIp = { ...env, POD_IP: '', POD_IPS: '' };
  // Found before the readiness wait: an app that is never ready does not delay the error.
  const run = await runHook(['register', ...flags, '--ready-url', 'http://127.0.0.1:1/ready', '--timeout', '60s'], { env: noIp, killAfterMs: 20_000 });
  assert.equal(run.code, 2);
  assert.match(run.summary, /POD_IP is not set/);
  assert.ok(run.durationMs < 5000, `exited after ${Math.round(run.durationMs)}ms`);
  const field = await runHook(['register', ...flags, '--field', 'cost-center=42'], { env });
  assert.equal(field.code, 2);
  assert.match(field.summary, /--field .* "cost-center" cannot be a NetBox custom field name/);
});
