// The one retry layer (transient vs permanent, Retry-After), and the one deadline
// against a CMDB that accepts connections and never answers. The rule: the CMDB's outages never take the app down.
import assert from 'node:assert/strict';
import net from 'node:net';
import { test } from 'node:test';
import { runHook } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

test('503 twice, then 200: registered, after three attempts', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  cmdb.injectFault({ status: 503, times: 2 });
  const run = await runHook(['register', ...flags, '--strict'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(cmdb.writes().map((write) => write.status), [503, 503, 201]);
  assert.equal(cmdb.records.size, 1);
  assert.equal(run.logs.filter((line) => String(line.msg).includes('retrying')).length, 2);
});

test('408 and 425 are retried like 429 and 5xx', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  cmdb.injectFault({ status: 408 });
  cmdb.injectFault({ status: 425 });
  const run = await runHook(['register', ...flags, '--strict'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.deepEqual(cmdb.writes().map((write) => write.status), [408, 425, 201]);
});

// README "Retries": backoff with jitter, 200 ms doubling to 5 s. The n-th wait is 200 ms x 2^(n-1) times a random
// factor from 1 to 2 (p-retry), at most 5 s: read from the waits the run logs, not from the clock. The 6th is the
// first one past the cap, so the run needs its 5 s plus up to 11 s of the waits before it.
test('503 every time: the waits double from 200 ms, with jitter, up to 5 s', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  cmdb.injectFault({ status: 503, times: 1000 });
  const run = await runHook(['deregister', ...flags, '--timeout', '17s'], { env, killAfterMs: 30_000 });
  assert.equal(run.code, 0, run.stderr);
  const waits = run.logs.filter((line) => String(line.msg).includes('retrying')).map((line) => Number(line.retryInMs));
  assert.ok(waits.length >= 6, `waits: ${waits.join(', ')}`);
  waits.forEach((wait, index) => {
    const base = 200 * 2 ** index;
    assert.ok(wait >= Math.min(base, 5000) && wait <= Math.min(2 * base, 5000), `wait ${index + 1} of ${waits.join(', ')}`);
  });
  assert.equal(waits[5], 5000, 'the cap');
});

test('429 with Retry-After: 1: the next attempt waits at least a second', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  cmdb.injectFault({ status: 429, retryAfter: '1' });
  const run = await runHook(['register', ...flags], { env });
  assert.equal(run.code, 0, run.stderr);
  const [limited, accepted] = cmdb.writes();
  assert.equal(limited?.status, 429);
  assert.equal(accepted?.status, 201);
  assert.ok(accepted.at - limited.at >= 1000, `waited ${Math.round(accepted.at - limited.at)}ms`);
});

// RFC 9110 section 5.6.7: an asctime date names no zone and is UTC. Read in the container's zone (8 hours behind UTC
// here), it asked for a wait far past the deadline, and the agent gave up at once without registering.
test('Retry-After as an asctime date is UTC, also in a container with TZ=America/Los_Angeles', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  // The date is written in whole seconds and taken before the hook starts: the retry may come no earlier than that
  // second, however long the start took (a wait counted from the 503 is shorter the slower the start).
  const retryAt = new Date(Date.now() + 2000);
  cmdb.injectFault({ status: 503, retryAfter: asctime(retryAt) });
  const run = await runHook(['register', ...flags, '--timeout', '20s', '--strict'], { env: { ...env, TZ: 'America/Los_Angeles' } });
  assert.equal(run.code, 0, run.stderr);
  const [unavailable, accepted] = cmdb.writes();
  assert.equal(unavailable?.status, 503);
  assert.equal(accepted?.status, 201);
  const notBefore = Math.floor(retryAt.getTime() / 1000) * 1000;
  assert.ok(accepted.wallAt >= notBefore, `retried ${notBefore - accepted.wallAt}ms before the date`);
  assert.ok(accepted.at - unavailable.at < 5000, `waited ${Math.round(accepted.at - unavailable.at)}ms`);
});

/** "Sun Nov  6 08:49:37 1994": ANSI C's asctime() form of an HTTP-date, in UTC. */
function asctime(date: Date): string {
  const [day, month] = [date.toUTCString().slice(0, 3), date.toUTCString().slice(8, 11)];
  return `${day} ${month} ${String(date.getUTCDate()).padStart(2, ' ')} ${date.toISOString().slice(11, 19)} ${date.getUTCFullYear()}`;
}

test('a Retry-After beyond the deadline gives up at once instead of sleeping into it', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  cmdb.injectFault({ status: 503, retryAfter: '120' });
  const run = await runHook(['register', ...flags, '--timeout', '5s', '--strict'], { env });
  assert.equal(run.code, 5);
  assert.ok(run.durationMs < 2000, `gave up after ${Math.round(run.durationMs)}ms`);
  assert.match(run.summary, /would pass the 5s deadline; last: PUT .* answered 503/);
});

test('400: no retry; exit 0 with an error, 4 with --strict', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  cmdb.injectFault({ status: 400, body: '{"error":"field x is not allowed"}', times: 2 });
  const lenient = await runHook(['register', ...flags], { env });
  assert.equal(lenient.code, 0);
  assert.match(lenient.summary, /FAILED: PUT .* answered 400 Bad Request: \{"error":"field x is not allowed"\}; exit 0 \(fail-open; --strict exits 4\)/);
  const strict = await runHook(['register', ...flags, '--strict'], { env });
  assert.equal(strict.code, 4);
  assert.equal(cmdb.writes().length, 2, 'one attempt per run');
  assert.ok(lenient.logs.some((line) => line.level === 50), 'the failure is logged at error level');
});

for (const command of ['register', 'deregister'] as const) {
  test(`${command}: a CMDB that accepts and never answers: ends within --timeout + 1s; exit 0, and 5 with --strict`, async (t) => {
    const { cmdb, env, flags } = await scene(t);
    cmdb.injectFault({ hang: true, times: 1000 });
    const lenient = await runHook([command, ...flags, '--timeout', '2s'], { env });
    assert.equal(lenient.code, 0, lenient.stderr);
    assert.ok(lenient.durationMs < 3000, `ended after ${Math.round(lenient.durationMs)}ms`);
    assert.match(lenient.summary, /FAILED: .* until the 2s deadline passed; last: .*no answer before the deadline; exit 0/);
    const strict = await runHook([command, ...flags, '--timeout', '2s', '--strict'], { env });
    assert.equal(strict.code, 5);
    assert.ok(strict.durationMs < 3000, `ended after ${Math.round(strict.durationMs)}ms`);
  });
}

test('a CMDB that answers headers but never finishes the body: a per-attempt timeout, then retries, all inside the deadline', async (t) => {
  const server = net.createServer((socket) => {
    socket.once('data', () => socket.write('HTTP/1.1 200 OK\r\ncontent-length: 100\r\n\r\n{"partial":'));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  const { cmdb, env, flags } = await scene(t);
  const { port } = server.address() as net.AddressInfo;
  const args = ['register', ...withCmdbUrl(flags, cmdb.url, `http://127.0.0.1:${port}/records`), '--request-timeout', '500ms', '--timeout', '3s', '--strict'];
  const run = await runHook(args, { env });
  assert.equal(run.code, 5);
  assert.ok(run.durationMs < 4000, `ended after ${Math.round(run.durationMs)}ms`);
  assert.ok(run.logs.filter((line) => String(line.msg).includes('retrying')).length >= 2, 'timed-out attempts were retried');
});

test('a CMDB that refuses connections: retried until the deadline, then exit 0 (5 with --strict)', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const args = ['deregister', ...withCmdbUrl(flags, cmdb.url, 'http://127.0.0.1:1/records'), '--timeout', '2s'];
  const lenient = await runHook(args, { env });
  assert.equal(lenient.code, 0);
  assert.match(lenient.summary, /ECONNREFUSED/);
  assert.ok(lenient.durationMs < 3000);
  assert.equal((await runHook([...args, '--strict'], { env })).code, 5);
});

function withCmdbUrl(flags: string[], from: string, to: string): string[] {
  return flags.map((flag) => (flag === from ? to : flag));
}
