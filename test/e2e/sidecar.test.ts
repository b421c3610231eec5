// `cmdb-hook sidecar`, the built program spawned as a container, against the sandbox CMDB and the demo app:
// /readyz follows the record, /deregister only from trusted sources, SIGTERM, a restart after SIGKILL, bad flags.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { waitFor } from '../support/processes.ts';
import { runHook } from '../support/run-hook.ts';
import { scene, type Scene, type SceneOptions } from '../support/scene.ts';
import { startSidecar, stopSidecar, type SidecarProcess } from '../support/sidecar-process.ts';

// The node as the pod sees the kubelet (HOST_IP), and another pod: both on loopback, neither 127.0.0.1.
const KUBELET = '127.0.0.3';
const OTHER_POD = '127.0.0.2';

async function world(t: TestContext, options: SceneOptions = {}): Promise<Scene & { id: string }> {
  const base = await scene(t, { ...options, pod: { hostIp: KUBELET, ...options.pod } });
  return { ...base, id: `${base.env.POD_UID}_app` };
}

async function sidecar(t: TestContext, w: Scene, args: string[], env: Record<string, string> = {}): Promise<SidecarProcess> {
  const started = await startSidecar([...w.flags, ...args], { ...w.env, ...env });
  t.after(() => stopSidecar(started));
  return started;
}

const statusOf = (reply: Awaited<ReturnType<SidecarProcess['get']>>) => (typeof reply === 'string' ? reply : reply.status);

test('/readyz is 503 until the record is written, then 200; nothing is written before the app is ready', async (t) => {
  const w = await world(t, { app: { readyAfterMs: 1500 } });
  const run = await sidecar(t, w, ['--ready-url', w.app?.readyUrl ?? '']);
  const seen: { status: number | string; records: number }[] = [];
  const until = performance.now() + 30_000;
  while (seen.at(-1)?.status !== 200 && performance.now() < until) {
    const reply = await run.get('/readyz');
    // Counted when the answer is in: a 200 must find the record already there.
    seen.push({ status: statusOf(reply), records: w.cmdb.records.size });
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  assert.ok(seen.some((entry) => entry.status === 503), 'a 503 came first');
  assert.equal(seen.at(-1)?.status, 200, JSON.stringify(seen.slice(-3)));
  for (const entry of seen.filter((one) => one.status === 200)) assert.equal(entry.records, 1, 'a 200 only once the record exists');
  const [put] = w.cmdb.writes();
  assert.equal(put?.method, 'PUT');
  assert.ok((put?.at ?? 0) >= (w.app?.readyAt() ?? Number.POSITIVE_INFINITY), 'the record was written after the app turned ready');
  assert.equal(w.cmdb.records.get(w.id)?.state, 'ready');
  assert.equal(statusOf(await run.get('/healthz')), 200);
});

test('the CMDB down: without --strict /readyz turns 200 once --timeout has passed (fail-open); with --strict never, and it keeps trying', async (t) => {
  const w = await world(t);
  w.cmdb.injectFault({ status: 503, times: 100_000, method: 'PUT' });
  const open = await sidecar(t, w, ['--timeout', '2s']);
  const strict = await sidecar(t, w, ['--timeout', '2s', '--strict']);
  assert.ok(await strict.readyzIs(503, 15_000), 'listening');
  assert.ok(await open.readyzIs(200, 15_000), 'fail-open: 200 after the register deadline');
  assert.ok(open.logs().some((line) => line.level === 50 && String(line.msg).includes('fail-open')), 'the failure is logged');
  const putsBefore = w.cmdb.writes().length;
  // Two rounds of --strict (2 s each, 5 s apart): /readyz never 200 meanwhile.
  const until = performance.now() + 8_000;
  while (performance.now() < until) {
    assert.equal(statusOf(await strict.get('/readyz')), 503);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  assert.ok(w.cmdb.writes().length > putsBefore, '--strict keeps trying');
  assert.equal(w.cmdb.records.size, 0);
});

test('/deregister from the kubelet (HOST_IP) removes the record and answers after; from another pod 403, the record stays', async (t) => {
  const w = await world(t);
  const run = await sidecar(t, w, ['--drain', '300ms']);
  assert.ok(await run.readyzIs(200, 15_000));
  assert.equal(w.cmdb.records.size, 1);

  const refused = await run.get('/deregister', OTHER_POD);
  assert.deepEqual(refused, { status: 403, body: 'forbidden\n' });
  assert.equal(w.cmdb.records.size, 1, 'the record stays');
  assert.ok(!w.cmdb.writes().some((write) => write.method === 'DELETE'));
  const refusal = run.logs().filter((line) => line.source === OTHER_POD);
  assert.equal(refusal.length, 1, 'one log line names the source');
  assert.match(String(refusal[0]?.msg), /GET \/deregister refused: 127\.0\.0\.2 is not a trusted source/);

  const started = performance.now();
  const done = await run.get('/deregister', KUBELET);
  const took = performance.now() - started;
  assert.deepEqual(done, { status: 200, body: 'deregistered\n' });
  assert.equal(w.cmdb.records.size, 0, 'the record was gone when the answer came');
  assert.ok(took >= 300, `answered after the drain (${took.toFixed(0)} ms)`);
  assert.equal(statusOf(await run.get('/readyz')), 503, 'not ready once deregistered');
  // A second call (the kubelet retries nothing, but a person might): the same answer, no second DELETE.
  assert.deepEqual(await run.get('/deregister', '127.0.0.1'), { status: 200, body: 'deregistered\n' });
  assert.equal(w.cmdb.writes().filter((write) => write.method === 'DELETE').length, 1);
});

test('/deregister while the register\'s write is in flight: the DELETE goes out after that write is answered, and nothing writes after it', async (t) => {
  const w = await world(t);
  w.cmdb.injectFault({ delayMs: 2_500, method: 'PUT' });
  // No --ready-url: it registers as soon as it listens, and that PUT takes 2.5 s to be answered.
  const run = await sidecar(t, w, ['--heartbeat', '1s', '--deregister-timeout', '8s']);
  assert.ok(await run.readyzIs(503, 15_000));
  await new Promise((resolve) => setTimeout(resolve, 800));
  const done = await run.get('/deregister');
  assert.deepEqual(done, { status: 200, body: 'deregistered\n' });
  await new Promise((resolve) => setTimeout(resolve, 2_500)); // a heartbeat would have beaten by now
  const writes = w.cmdb.writes();
  assert.deepEqual(writes.map((write) => write.method), ['PUT', 'DELETE'], 'the PUT in flight, then the DELETE, then nothing');
  assert.ok((writes[1]?.at ?? 0) > (writes[0]?.at ?? 0));
  assert.equal(w.cmdb.records.size, 0);
});

test('--trusted-source replaces HOST_IP; loopback stays trusted; a bare address is one address', async (t) => {
  const w = await world(t);
  const run = await sidecar(t, w, ['--trusted-source', '127.0.0.4', '--trusted-source', '127.0.0.8/30']);
  assert.ok(await run.readyzIs(200, 15_000));
  assert.equal(statusOf(await run.get('/deregister', KUBELET)), 403, 'HOST_IP is no longer trusted');
  assert.equal(statusOf(await run.get('/deregister', '127.0.0.5')), 403);
  assert.equal(w.cmdb.records.size, 1);
  assert.equal(statusOf(await run.get('/deregister', '127.0.0.10')), 200, 'inside 127.0.0.8/30');
  assert.equal(w.cmdb.records.size, 0);
});

test('CMDB_HOOK_TRUSTED_SOURCE pod-subnet/24+1 trusts the .1 of the /24 that holds POD_IP (a node\'s cni0), not its neighbours', async (t) => {
  const w = await world(t, { pod: { ip: '127.0.1.17' } });
  // Given as its env var, the way a shared ConfigMap would (one value per line).
  const run = await sidecar(t, w, [], { CMDB_HOOK_TRUSTED_SOURCE: '\npod-subnet/24+1\n' });
  assert.ok(await run.readyzIs(200, 15_000));
  assert.equal(statusOf(await run.get('/deregister', '127.0.1.2')), 403, 'another pod of the node');
  assert.equal(statusOf(await run.get('/deregister', KUBELET)), 403, 'HOST_IP is replaced');
  assert.equal(w.cmdb.records.size, 1);
  assert.equal(statusOf(await run.get('/deregister', '127.0.1.1')), 200);
  assert.equal(w.cmdb.records.size, 0);
  assert.ok(run.logs().some((line) => Array.isArray(line.trusted) && line.trusted.includes('127.0.1.1/32')), 'the start-up line lists it');
});

test('SIGTERM deregisters (when /deregister did not), then the sidecar exits 0', async (t) => {
  const w = await world(t);
  const run = await sidecar(t, w, []);
  assert.ok(await run.readyzIs(200, 15_000));
  run.child.kill('SIGTERM');
  const ended = await run.ended;
  assert.deepEqual(ended, { code: 0, signal: null }, run.stderr());
  assert.equal(w.cmdb.records.size, 0);
  assert.deepEqual(w.cmdb.writes().map((write) => write.method), ['PUT', 'DELETE']);
  assert.match(run.stderr().trimEnd().split('\n').at(-1) ?? '', /^cmdb-hook sidecar shop\/web-0 container app: deleted record \S+_app \(204 No Content\) on SIGTERM$/);
});

test('killed (SIGKILL) and restarted: the same record, no duplicate, no DELETE, one idempotent re-assertion', async (t) => {
  const w = await world(t, { app: { readyAfterMs: 0 } });
  const args = ['--ready-url', w.app?.readyUrl ?? ''];
  const first = await sidecar(t, w, args);
  assert.ok(await first.readyzIs(200, 15_000));
  first.child.kill('SIGKILL');
  await first.ended;
  const second = await sidecar(t, w, args);
  assert.ok(await second.readyzIs(200, 15_000));
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  const writes = w.cmdb.writes();
  assert.deepEqual(writes.map((write) => `${write.method} ${write.path} ${write.status}`), [`PUT /records/${w.id} 201`, `PUT /records/${w.id} 200`]);
  assert.deepEqual([...w.cmdb.records.keys()], [w.id]);
});

test('--heartbeat: a record removed by hand is back within one interval, and the intervals vary within [0.9, 1.1] x --heartbeat', async (t) => {
  const w = await world(t);
  const run = await sidecar(t, w, ['--heartbeat', '1s']);
  assert.ok(await run.readyzIs(200, 15_000));
  assert.ok(await waitFor(() => w.cmdb.writes().length >= 2, 5_000), 'a first beat');
  w.cmdb.records.delete(w.id);
  const removedAt = performance.now();
  // One interval at most (1.1 s), and the time the request takes on a busy machine.
  assert.ok(await waitFor(() => w.cmdb.records.has(w.id), 1_100 + 600), 'the record is back');
  const backIn = performance.now() - removedAt;
  assert.ok(backIn <= 1_700, `back in ${backIn.toFixed(0)} ms`);
  assert.ok(await waitFor(() => w.cmdb.writes().length >= 9, 15_000));
  const puts = w.cmdb.writes().filter((write) => write.method === 'PUT');
  assert.equal(puts.length, w.cmdb.writes().length, 'a heartbeat only ever upserts');
  const gaps = puts.slice(1).map((put, index) => put.at - (puts[index]?.at ?? 0));
  // Beats are due at jittered offsets from when the last one was due; the log has when each request ended, so a
  // request slower or faster than the one before moves a measured gap by that difference (a loaded machine: 250 ms).
  for (const gap of gaps) assert.ok(gap >= 900 - 250 && gap <= 1_100 + 250, `gap ${gap.toFixed(0)} ms in ${gaps.map(Math.round).join(', ')}`);
  const spread = Math.max(...gaps) - Math.min(...gaps);
  assert.ok(spread > 15, `the intervals are jittered, not equal: ${gaps.map(Math.round).join(', ')}`);
  const observed = puts.map((put) => (JSON.parse(put.body) as { observedAt: string }).observedAt);
  assert.equal(new Set(observed).size, observed.length, 'each beat carries a fresh observedAt');
  assert.equal(w.cmdb.records.size, 1);
});

test('bad sidecar settings exit 2 with one line naming the flag and env var, before anything is sent', async (t) => {
  const w = await world(t);
  const cases: { args: string[]; env?: Record<string, string>; message: RegExp }[] = [
    { args: ['--trusted-source', '10.0.0.0/33'], message: /^cmdb-hook sidecar: --trusted-source \(CMDB_HOOK_TRUSTED_SOURCE\) "10\.0\.0\.0\/33" is not an IP address or CIDR; write it like/ },
    { args: [], env: { CMDB_HOOK_TRUSTED_SOURCE: '10.1.0.0/16\nnode-a' }, message: /--trusted-source \(CMDB_HOOK_TRUSTED_SOURCE\) "node-a" is not an IP address or CIDR/ },
    { args: [], env: { HOST_IP: 'node-a' }, message: /HOST_IP \(fieldRef status\.hostIP\) "node-a" is not an IP address or CIDR/ },
    { args: ['--trusted-source', 'pod-subnet/24+300'], message: /--trusted-source \(CMDB_HOOK_TRUSTED_SOURCE\) "pod-subnet\/24\+300" does not fit POD_IP/ },
    { args: ['--trusted-source', 'pod-subnet/24+1'], env: { POD_IP: '' }, message: /"pod-subnet\/24\+1" needs POD_IP: add env POD_IP with fieldRef status\.podIP/ },
    { args: ['--heartbeat', '100ms'], message: /--heartbeat \(CMDB_HOOK_HEARTBEAT\) "100ms" is shorter than 1s/ },
    { args: ['--heartbeat', '5'], message: /--heartbeat \(CMDB_HOOK_HEARTBEAT\) "5" .*5s or 5ms/ },
    { args: ['--listen', '9901'], message: /--listen \(CMDB_HOOK_LISTEN\) "9901" has no colon before the port/ },
    { args: ['--drain', '10s'], message: /--drain \(CMDB_HOOK_DRAIN\) must be shorter than --deregister-timeout \(CMDB_HOOK_DEREGISTER_TIMEOUT\)/ },
    { args: ['--deregister-timeout', '0s'], message: /--deregister-timeout \(CMDB_HOOK_DEREGISTER_TIMEOUT\) "0s" is zero/ },
    { args: ['--background'], message: /Unknown argument: background/ },
  ];
  for (const { args, env, message } of cases) {
    const run = await runHook(['sidecar', ...w.flags, ...args], { env: { ...w.env, ...env } });
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.stderr}`);
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, `one line: ${run.stderr}`);
    assert.match(run.stderr, message);
  }
  assert.equal(w.cmdb.requests.length, 0);
});

test('the token is in no argv, log line or answer of the sidecar, also when the CMDB refuses it', async (t) => {
  const token = 'tok-sidecar-7c1e5a9b3d-SECRET';
  const w = await world(t, { cmdb: { token } });
  const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-sidecar-secret-'));
  const good = join(dir, 'token');
  const wrong = join(dir, 'wrong');
  writeFileSync(good, `${token}\n`);
  writeFileSync(wrong, `${token}-not\n`);
  const ok = await sidecar(t, w, ['--cmdb-token-file', good, '--log-level', 'trace']);
  assert.ok(await ok.readyzIs(200, 15_000));
  const refused = await sidecar(t, w, ['--cmdb-token-file', wrong, '--log-level', 'trace', '--strict', '--timeout', '1s']);
  assert.ok(await refused.readyzIs(503, 15_000));
  assert.ok(await waitFor(() => refused.logs().some((line) => line.level === 50), 10_000), 'the refusal is logged');
  const answers = await Promise.all(['/readyz', '/healthz', '/deregister'].map((path) => refused.get(path)));
  for (const run of [ok, refused]) {
    const cmdline = readFileSync(`/proc/${run.child.pid}/cmdline`, 'utf8');
    assert.ok(!cmdline.includes(token.slice(4, 16)), 'argv');
    run.child.kill('SIGTERM');
    await run.ended;
    assert.ok(!run.stderr().includes(token.slice(4, 16)), 'logs');
  }
  assert.ok(!JSON.stringify(answers).includes(token.slice(4, 16)), `answers: ${JSON.stringify(answers)}`);
});
