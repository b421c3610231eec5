// The poll runs a check every 30 ms: each check must let go of everything it made (its timer, its listener on the
// run's deadline) as soon as it ends, not when its timeout would have passed. Both probes, against real loopback
// servers; timers are counted with async_hooks (a timer is destroyed when cleared or fired).
import assert from 'node:assert/strict';
import { createHook } from 'node:async_hooks';
import { getEventListeners } from 'node:events';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createHttpProbe } from '../../src/readiness/http-probe.ts';
import type { Probe } from '../../src/readiness/probe.ts';
import type { TimeBudget } from '../../src/retry/time-budget.ts';
import { createTcpProbe } from '../../src/readiness/tcp-probe.ts';

const CHECKS = 20;

/** A check's budget: the run's deadline signal and the check's own limit. */
const budget = (signal: AbortSignal, timeoutMs: number): TimeBudget => ({ signal, timeoutMs, endsAt: performance.now() + timeoutMs });

async function liveTimersAfter(probe: Probe, deadline: AbortSignal): Promise<number> {
  const live = new Set<number>();
  const hook = createHook({
    init: (id, type) => void (type === 'Timeout' && live.add(id)),
    destroy: (id) => void live.delete(id),
  }).enable();
  try {
    for (let check = 0; check < CHECKS; check++) {
      const result = await probe.check(budget(deadline, 60_000));
      assert.equal(result.ready, true, result.detail);
    }
    await nextTurn();
    await nextTurn();
    return live.size;
  } finally {
    hook.disable();
  }
}

test('a tcp check releases its timer and its deadline listener when it ends', async (t) => {
  const server = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const deadline = new AbortController().signal;
  const probe = createTcpProbe(['127.0.0.1'], (server.address() as net.AddressInfo).port);
  assert.equal(await liveTimersAfter(probe, deadline), 0, `timers still pending after ${CHECKS} checks with a 60s timeout`);
  assert.equal(getEventListeners(deadline, 'abort').length, 0);
});

test('an http check releases its timer and its deadline listener when it ends', async (t) => {
  // A plain socket server: node:http's server keeps timers of its own (its Date header cache) in this process.
  const server = net.createServer((socket) => socket.once('data', () => socket.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok')));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const deadline = new AbortController().signal;
  const probe = createHttpProbe(new URL(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/healthz`));
  assert.equal(await liveTimersAfter(probe, deadline), 0, `timers still pending after ${CHECKS} checks with a 60s timeout`);
  assert.equal(getEventListeners(deadline, 'abort').length, 0);
});

test('a check still ends at its own timeout, and at once when the deadline has passed', async (t) => {
  const server = http.createServer(() => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => {
    server.closeAllConnections();
    server.close();
  });
  const probe = createHttpProbe(new URL(`http://127.0.0.1:${(server.address() as net.AddressInfo).port}/healthz`));
  const open = new AbortController().signal;
  const started = performance.now();
  assert.deepEqual(await probe.check(budget(open, 200)), { ready: false, detail: 'no answer within 200ms', timedOut: true });
  assert.ok(performance.now() - started < 5000);
  const passed = AbortSignal.abort();
  const late = performance.now();
  assert.deepEqual(await probe.check(budget(passed, 60_000)), { ready: false, detail: 'deadline reached', timedOut: true });
  const tcp = await createTcpProbe(['127.0.0.1'], 9).check(budget(passed, 60_000));
  assert.deepEqual([tcp.ready, tcp.timedOut], [false, true], 'ended by the deadline: no verdict on the app');
  assert.ok(performance.now() - late < 5000, 'not the 60s timeout');
});
