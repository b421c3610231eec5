// A CMDB answer is read up to a limit (README "Answers"): 1 MiB of a success, 64 KiB of a failure. A 50 MB body or
// one that never ends once took the hook to 280 MiB and 1.5 GB of memory inside the app container's limit.
import assert from 'node:assert/strict';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { test, type TestContext } from 'node:test';
import { baseFlags, downwardEnv, podinfoDir, runHook, type HookRun } from '../support/run-hook.ts';

const MiB = 1024 * 1024;
const CHUNK = Buffer.alloc(64 * 1024, 'x');

type Body = { kind: 'sized'; bytes: number } | { kind: 'endless' };

/** A CMDB stand-in that answers every request with `status` and a body of `bytes`, or one that never ends. */
async function cmdbSending(t: TestContext, status: number, body: Body, withLength = true): Promise<{ url: string; requests: () => number }> {
  let requests = 0;
  const server = createServer((request, response) => {
    requests++;
    request.resume();
    const length = body.kind === 'sized' && withLength ? { 'content-length': String(body.bytes) } : {};
    response.writeHead(status, { 'content-type': 'application/json', ...length });
    pour(response, body.kind === 'sized' ? body.bytes : Number.POSITIVE_INFINITY);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/records`, requests: () => requests };
}

/** Writes `left` bytes as fast as the client reads them, stopping when it goes away. */
function pour(response: ServerResponse, left: number): void {
  while (left > 0 && !response.destroyed) {
    const chunk = left >= CHUNK.length ? CHUNK : CHUNK.subarray(0, left);
    left -= chunk.length;
    if (left <= 0) {
      response.end(chunk);
      return;
    }
    if (!response.write(chunk)) {
      response.once('drain', () => pour(response, left));
      return;
    }
  }
}

/** Runs the hook as the kubelet does, watching its peak memory in /proc. */
function runMeasured(args: string[], env: Record<string, string>): Promise<HookRun> {
  return runHook(args, { env, watchMemory: true });
}

// Reading a 1 MiB answer (and masking it) adds a few MiB to what a run with a small answer peaks at (about 72 MiB for
// the bundle and the executable alike: README "Performance"); a whole 50 MB body added over 200.
const MARGIN_MIB = 32;
let baseline: Promise<number> | undefined;

/** The peak of a run whose CMDB answers 404 with a small body, measured once: what a bounded run may approach. */
function baselinePeakMiB(t: TestContext): Promise<number> {
  baseline ??= (async () => {
    const cmdb = await cmdbSending(t, 404, { kind: 'sized', bytes: 100 });
    const run = await runMeasured(['deregister', ...baseFlags(cmdb.url, podinfoDir({ labels: 'app="shop"' })), '--timeout', '10s'], downwardEnv());
    assert.equal(run.code, 0, run.summary);
    t.diagnostic(`baseline peak RSS ${run.peakRssMiB.toFixed(1)} MiB`);
    return run.peakRssMiB;
  })();
  return baseline;
}

async function assertBounded(t: TestContext, run: HookRun, what: string): Promise<void> {
  const limit = (await baselinePeakMiB(t)) + MARGIN_MIB;
  t.diagnostic(`${what}: peak RSS ${run.peakRssMiB.toFixed(1)} MiB`);
  assert.ok(run.peakRssMiB > 0 && run.peakRssMiB < limit, `${what}: peak RSS ${run.peakRssMiB.toFixed(1)} MiB, over ${limit.toFixed(1)}`);
}

test('a 50 MB success answer, announced or not: refused after at most 1 MiB, memory bounded; exit 4 with --strict', async (t) => {
  const podinfo = podinfoDir({ labels: 'app="shop"' });
  for (const withLength of [true, false]) {
    const cmdb = await cmdbSending(t, 200, { kind: 'sized', bytes: 50 * MiB }, withLength);
    const run = await runMeasured(['register', ...baseFlags(cmdb.url, podinfo), '--timeout', '10s', '--strict'], downwardEnv());
    await assertBounded(t, run, `50 MB, content-length ${withLength}`);
    assert.equal(run.code, 4, run.summary);
    assert.match(run.summary, /answered 200 OK with a body over 1 MiB; no CMDB answers one record's request with that much: check --cmdb-url/);
    assert.equal(cmdb.requests(), 1, 'not retried');
  }
});

test('a failure whose body never ends: an excerpt of its start, retried until the deadline, memory bounded', async (t) => {
  const podinfo = podinfoDir({ labels: 'app="shop"' });
  const cmdb = await cmdbSending(t, 503, { kind: 'endless' });
  const run = await runMeasured(['deregister', ...baseFlags(cmdb.url, podinfo), '--timeout', '4s', '--strict'], downwardEnv());
  await assertBounded(t, run, 'endless 503');
  assert.equal(run.code, 5, run.summary);
  assert.ok(run.durationMs < 5000, `ended after ${Math.round(run.durationMs)}ms`);
  assert.match(run.summary, /failed \d+ time\(s\) in .*4s deadline.*; last: DELETE .* answered 503 Service Unavailable: x{200}…; exit 5$/);
  assert.ok(cmdb.requests() >= 2, 'retried');
});

test('a success whose body never ends: refused after 1 MiB at once, not read until the deadline', async (t) => {
  const podinfo = podinfoDir({ labels: 'app="shop"' });
  const cmdb = await cmdbSending(t, 200, { kind: 'endless' });
  const run = await runMeasured(['register', ...baseFlags(cmdb.url, podinfo), '--timeout', '20s'], downwardEnv());
  await assertBounded(t, run, 'endless 200');
  assert.equal(run.code, 0, run.summary);
  assert.match(run.summary, /FAILED: .* with a body over 1 MiB.*; exit 0 \(fail-open; --strict exits 4\)/);
  assert.ok(run.durationMs < 10_000, `ended after ${Math.round(run.durationMs)}ms`);
});
