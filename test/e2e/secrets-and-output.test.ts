// The token never shows anywhere, in success and failure runs; --dry-run sends nothing
// and prints the request with the token masked. Plus --log-file as a best-effort second destination.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { baseFlags, runHook, type HookRun } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

const TOKEN = 'tok-9f8e7d6c5b4a-SECRET';
const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-secrets-'));
const tokenFile = join(dir, 'token');
writeFileSync(tokenFile, `  ${TOKEN}\n`);

function assertNoToken(run: HookRun, logFile: string, what: string) {
  for (const [where, text] of [['stdout', run.stdout], ['stderr', run.stderr], ['log file', readFileSync(logFile, 'utf8')]] as const) {
    assert.ok(!text.includes(TOKEN), `${what}: the token appears in ${where}`);
    assert.ok(!text.includes(TOKEN.slice(4, 16)), `${what}: part of the token appears in ${where}`);
  }
}

test('the token is sent as a bearer header (trimmed) and never appears in output, in success and failure runs', async (t) => {
  const { cmdb, env, flags } = await scene(t, { cmdb: { token: TOKEN } });
  const logFile = join(dir, 'success.log');
  const common = [...flags, '--cmdb-token-file', tokenFile, '--log-level', 'trace', '--log-file', logFile];

  const ok = await runHook(['register', ...common], { env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.equal(cmdb.requests[0]?.authorization, `Bearer ${TOKEN}`);
  assertNoToken(ok, logFile, 'success');

  cmdb.injectFault({ status: 500, times: 3 });
  const retried = await runHook(['deregister', ...common], { env });
  assert.equal(retried.code, 0, retried.stderr);
  assertNoToken(retried, logFile, 'retries');

  const wrongFile = join(dir, 'wrong-token');
  writeFileSync(wrongFile, 'not-the-token');
  const rejected = await runHook(['register', ...flags, '--cmdb-token-file', wrongFile, '--log-level', 'trace', '--log-file', logFile, '--strict'], { env });
  assert.equal(rejected.code, 4);
  assert.match(rejected.summary, /answered 401 Unauthorized/);
  assert.ok(!rejected.stderr.includes('not-the-token'));
  assertNoToken(rejected, logFile, 'rejected');

  const unreachable = await runHook(['register', ...common.map((flag) => (flag === cmdb.url ? 'http://127.0.0.1:1/records' : flag)), '--timeout', '1s'], { env });
  assert.equal(unreachable.code, 0);
  assertNoToken(unreachable, logFile, 'unreachable');
});

test('a CMDB that echoes the Authorization header in its error body does not leak the token', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const logFile = join(dir, 'echo.log');
  cmdb.injectFault({ status: 401, body: `bad credentials: Bearer ${TOKEN}` });
  const rejected = await runHook(['register', ...flags, '--cmdb-token-file', tokenFile, '--log-file', logFile, '--strict'], { env });
  assert.equal(rejected.code, 4);
  assert.match(rejected.summary, /answered 401 Unauthorized: bad credentials: Bearer \*\*\*/);
  assertNoToken(rejected, logFile, 'echoed in a 401 body');
  cmdb.injectFault({ status: 503, body: `upstream saw authorization=Bearer ${TOKEN}`, times: 2 });
  const retried = await runHook(['register', ...flags, '--cmdb-token-file', tokenFile, '--log-file', logFile], { env });
  assert.equal(retried.code, 0, retried.stderr);
  assertNoToken(retried, logFile, 'echoed in retried 503 bodies');
});

test('a token echoed in the status line, JSON-escaped or percent-encoded does not leak either', async (t) => {
  // A token with the characters servers escape: PHP's json_encode writes `/` as `\/`, forms percent-encode.
  const token = 'abc/def+ghi/JKL==';
  const file = join(dir, 'slashed-token');
  writeFileSync(file, token);
  const echoes = [
    { status: 403, reason: `Denied for Bearer ${token}`, body: '' },
    { status: 200, reason: `OK Bearer ${token}`, body: '' },
    { status: 400, reason: 'Bad Request', body: JSON.stringify({ auth: `Bearer ${token}` }).replaceAll('/', '\\/') },
    { status: 400, reason: 'Bad Request', body: `seen=Bearer%20${encodeURIComponent(token)}&also=${encodeURIComponent(token).replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())}` },
  ];
  let next = 0;
  const server = createServer((request, response) => {
    const echo = echoes[next++ % echoes.length]!;
    request.resume().on('end', () => response.writeHead(echo.status, echo.reason).end(echo.body));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { env, podinfo } = await scene(t);
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/records`;
  for (const echo of echoes) {
    const logFile = join(dir, `echo-${echo.status}-${next}.log`);
    const run = await runHook(['register', ...baseFlags(url, podinfo), '--cmdb-token-file', file, '--log-file', logFile, '--log-level', 'trace'], { env });
    assert.equal(run.code, 0, run.stderr);
    for (const text of [run.stdout, run.stderr, readFileSync(logFile, 'utf8')]) {
      for (const form of ['def+ghi', 'def\\/ghi', 'def%2Bghi', 'def%2bghi']) assert.ok(!text.includes(form), `${echo.reason} ${echo.body}: ${form} leaked:\n${text}`);
    }
    assert.match(run.summary, /\*\*\*/);
  }
});

test('a token echoed base64-encoded (alone, URL-safe, or inside an encoded header line) does not leak', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const logFile = join(dir, 'base64-echo.log');
  const standard = Buffer.from(TOKEN).toString('base64');
  const urlSafe = Buffer.from(TOKEN).toString('base64url');
  // "authorization: Bearer " is 22 bytes: characters 0 to 29 carry them, 30 to 60 only the token.
  const headerLine = Buffer.from(`authorization: Bearer ${TOKEN}\r\n`).toString('base64');
  cmdb.injectFault({ status: 401, body: `token ${standard}, ${urlSafe}; request ${headerLine}` });
  const run = await runHook(['register', ...flags, '--cmdb-token-file', tokenFile, '--log-file', logFile, '--strict'], { env });
  assert.equal(run.code, 4, run.stderr);
  assert.match(run.summary, /answered 401 Unauthorized: token \*\*\*, \*\*\*; request [A-Za-z0-9+/]{29,30}\*\*\*/);
  for (const [where, text] of [['stdout', run.stdout], ['stderr', run.stderr], ['log file', readFileSync(logFile, 'utf8')]] as const) {
    for (const form of [standard.slice(2, -2), urlSafe.slice(2, -2), headerLine.slice(31, 59)]) assert.ok(!text.includes(form), `${form} appears in ${where}`);
  }
  assertNoToken(run, logFile, 'base64 echo');
});

test('a token file that is a FIFO nobody writes is a config error, not a hang', async (t) => {
  const { env, flags } = await scene(t);
  const fifo = join(dir, 'token-fifo');
  execFileSync('mkfifo', [fifo]);
  const run = await runHook(['register', ...flags, '--cmdb-token-file', fifo, '--timeout', '2s'], { env, killAfterMs: 10_000 });
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.summary, /--cmdb-token-file .* cannot be read \(not a regular file\)/);
});

test('--dry-run sends nothing, checks no readiness, and prints the request with the token masked', async (t) => {
  const { cmdb, app, env, flags } = await scene(t, { app: { mode: 'never' } });
  const logFile = join(dir, 'dry-run.log');
  const run = await runHook(['register', ...flags, '--ready-url', app!.readyUrl, '--cmdb-token-file', tokenFile, '--dry-run', '--log-file', logFile], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(cmdb.requests.length, 0);
  assert.equal(app!.checks(), 0);
  const printed = JSON.parse(run.stdout) as { method: string; url: string; headers: Record<string, string>; body: { id: string; state: string } };
  assert.equal(printed.method, 'PUT');
  assert.equal(printed.url, `${cmdb.url}/${env.POD_UID}_app`);
  assert.equal(printed.headers.authorization, 'Bearer ***');
  assert.equal(printed.headers['content-type'], 'application/json');
  assert.equal(printed.body.id, `${env.POD_UID}_app`);
  assert.equal(printed.body.state, 'ready');
  assert.match(run.summary, /dry run/);
  assertNoToken(run, logFile, 'dry run');
});

test('--dry-run works without --cmdb-url, for deregister too', async (t) => {
  const { env, flags } = await scene(t);
  const noUrl = flags.filter((flag, index) => flag !== '--cmdb-url' && flags[index - 1] !== '--cmdb-url');
  const run = await runHook(['deregister', ...noUrl, '--dry-run', '--deregister-action', 'retire'], { env });
  assert.equal(run.code, 0, run.stderr);
  const printed = JSON.parse(run.stdout) as { method: string; url: string; body: { state: string } };
  assert.equal(printed.method, 'PUT');
  assert.equal(printed.url, `<cmdb-url>/${env.POD_UID}_app`);
  assert.equal(printed.body.state, 'terminated');
  const deleting = await runHook(['deregister', ...noUrl, '--dry-run'], { env });
  const plan = JSON.parse(deleting.stdout) as { method: string; headers: Record<string, string>; body?: unknown };
  assert.equal(plan.method, 'DELETE');
  assert.equal(plan.headers['content-type'], undefined, 'a DELETE carries no body, so no content-type');
  assert.equal(plan.body, undefined);
});

test('--log-file gets the JSON lines; one that cannot be opened is a warning, never a failure', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const logFile = join(dir, 'extra.log');
  const ok = await runHook(['register', ...flags, '--log-file', logFile], { env });
  assert.equal(ok.code, 0, ok.stderr);
  const lines = readFileSync(logFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { msg: string });
  assert.ok(lines.some((line) => line.msg.includes('registered as')), 'the outcome reaches the log file');

  const broken = await runHook(['register', ...flags, '--log-file', join(dir, 'no-such-dir', 'x.log'), '--strict'], { env });
  assert.equal(broken.code, 0, broken.stderr);
  assert.ok(broken.logs.some((line) => String(line.msg).includes('--log-file cannot be opened')));
  assert.equal(cmdb.records.size, 1);

  // A FIFO nobody reads (like /proc/1/fd/1 of a PID 1 that is not up yet) must not block the hook.
  const fifo = join(dir, 'fifo');
  execFileSync('mkfifo', [fifo]);
  const blocked = await runHook(['deregister', ...flags, '--log-file', fifo, '--timeout', '3s', '--strict'], { env, killAfterMs: 10_000 });
  assert.equal(blocked.code, 0, blocked.stderr);
  assert.ok(blocked.durationMs < 3000, `ended after ${Math.round(blocked.durationMs)}ms`);
  assert.ok(blocked.logs.some((line) => String(line.msg).includes('--log-file cannot be opened') && line.reason === 'ENXIO'));
});

test('the last line on stderr is one human sentence naming the pod and the outcome', async (t) => {
  const { env, flags } = await scene(t);
  const run = await runHook(['register', ...flags], { env });
  assert.ok(!run.summary.startsWith('{'), run.summary);
  assert.match(run.summary, new RegExp(`^cmdb-hook register shop/web-0 container app: registered as ${env.POD_UID}_app \\(201 Created\\) in \\d`));
});

test('--log-level silent drops the JSON lines but keeps the summary sentence (the kubelet event needs it)', async (t) => {
  const { env, flags } = await scene(t);
  const run = await runHook(['register', ...flags, '--log-level', 'silent'], { env });
  assert.equal(run.code, 0);
  assert.equal(run.logs.length, 0);
  assert.match(run.stderr, /^cmdb-hook register shop\/web-0 container app: registered as .*\n$/);
});

test('the effective config is logged once at debug level, naming files and never their content; not at info', async (t) => {
  const { env, flags } = await scene(t, { cmdb: { token: TOKEN } });
  const debug = await runHook(['register', ...flags, '--cmdb-token-file', tokenFile, '--log-level', 'debug'], { env });
  assert.equal(debug.code, 0, debug.stderr);
  const logged = debug.logs.filter((line) => line.msg === 'effective config');
  assert.equal(logged.length, 1);
  assert.equal(logged[0]?.level, 20);
  const config = logged[0]?.config as Record<string, unknown>;
  assert.equal(config.cluster, 'test-cluster');
  assert.equal(config.cmdbTokenFile, tokenFile);
  assert.ok(!debug.stderr.includes(TOKEN.slice(4, 16)), 'no token');
  const info = await runHook(['register', ...flags, '--cmdb-token-file', tokenFile], { env });
  assert.equal(info.logs.filter((line) => line.msg === 'effective config').length, 0);
});

test('--version and --help exit 0', async () => {
  const version = await runHook(['--version']);
  assert.equal(version.code, 0);
  assert.equal(version.stdout.trim(), '0.1.0');
  const help = await runHook(['register', '--help']);
  assert.equal(help.code, 0);
  assert.match(help.stdout, /--ready-url\s[^\n]*\n?[^[]*\[env\s+CMDB_HOOK_READY_URL\]/);
});
