// The long-running modes' endpoints on a real server on 127.0.0.1, asked over real sockets.
import assert from 'node:assert/strict';
import { Agent, request } from 'node:http';
import type { IncomingHttpHeaders } from 'node:http';
import { connect } from 'node:net';
import { once } from 'node:events';
import { test } from 'node:test';
import type { TestContext } from 'node:test';
import { ConfigError } from '../../src/errors.ts';
import { createHeartbeat } from '../../src/serve/heartbeat.ts';
import { startEndpoints } from '../../src/serve/http-endpoints.ts';
import type { Check, EndpointsOptions } from '../../src/serve/http-endpoints.ts';
import { parseListenAddress } from '../../src/settings/listen-address.ts';
import { createRegistry, defineCounter } from '../../src/serve/metrics.ts';
import { captureLog } from '../support/capture-log.ts';

const OK: Check = { ok: true };

// parseListenAddress refuses port 0 on purpose; the tests take a free port from the kernel all the same.
const ANY_PORT = { flag: 'listen', host: '127.0.0.1', port: 0 } as const;

async function serve(t: TestContext, options: Partial<Omit<EndpointsOptions, 'listen'>> = {}) {
  const endpoints = await startEndpoints({ listen: ANY_PORT, live: () => OK, ready: () => OK, registry: createRegistry(), ...options });
  t.after(() => endpoints.close());
  return endpoints;
}

interface Reply { status: number; headers: IncomingHttpHeaders; body: string }

function ask(port: number, method: string, path: string, options: { agent?: Agent; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, method, path, agent: options.agent ?? false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end(options.body);
  });
}

test('GET /healthz is 200 "ok" while the liveness callback says so, then 503 with fixed words; the reason goes to the log once', async (t) => {
  let live: Check = OK;
  const { log, lines } = captureLog();
  const { address } = await serve(t, { live: () => live, log });
  const healthy = await ask(address.port, 'GET', '/healthz');
  assert.deepEqual([healthy.status, healthy.body, healthy.headers['content-type']], [200, 'ok\n', 'text/plain; charset=utf-8']);
  assert.equal(healthy.headers['cache-control'], 'no-store');
  live = { ok: false, reason: 'main loop last ran 95 s ago\n(limit 60 s)' };
  const stuck = await ask(address.port, 'GET', '/healthz');
  assert.deepEqual([stuck.status, stuck.body], [503, 'not live\n']);
  await ask(address.port, 'GET', '/healthz');
  const said = lines.filter((line) => line.path === '/healthz');
  assert.deepEqual(said.map((line) => line.reason), ['main loop last ran 95 s ago (limit 60 s)'], 'logged once, in one line, not at every probe');
});

test('GET /readyz is 503 until the readiness callback says ready, then 200; the body never carries the reason (a CMDB\'s message)', async (t) => {
  const why = 'not registered yet: the CMDB answered 503 token=s3cr3t';
  let ready: Check = { ok: false, reason: why };
  const { log, lines } = captureLog();
  const { address } = await serve(t, { ready: () => Promise.resolve(ready), log });
  const before = await ask(address.port, 'GET', '/readyz');
  assert.deepEqual([before.status, before.body], [503, 'not ready\n']);
  assert.ok(lines.some((line) => line.reason === why), 'the reason is in the log');
  ready = OK;
  const after = await ask(address.port, 'GET', '/readyz');
  assert.deepEqual([after.status, after.body], [200, 'ok\n']);
  ready = { ok: false, reason: 'lost the lease' };
  assert.equal((await ask(address.port, 'GET', '/readyz')).status, 503, 'readiness is asked on every request, not latched');
});

test('without a registry there is no /metrics (the sidecar loads no prom-client)', async (t) => {
  const endpoints = await startEndpoints({ listen: ANY_PORT, live: () => OK, ready: () => OK });
  t.after(() => endpoints.close());
  assert.equal((await ask(endpoints.address.port, 'GET', '/metrics')).status, 404);
  assert.equal((await ask(endpoints.address.port, 'GET', '/readyz')).status, 200);
});

test('GET /metrics is the registry in the Prometheus text format, with its content type, and a counter shows up', async (t) => {
  const registry = createRegistry();
  const writes = defineCounter(registry, { name: 'cmdb_writes_total', help: 'CMDB writes by outcome.', labelNames: ['outcome'] });
  const { address } = await serve(t, { registry });
  writes.inc({ outcome: 'ok' }, 3);
  writes.inc({ outcome: 'rejected' });
  const scrape = await ask(address.port, 'GET', '/metrics');
  assert.equal(scrape.status, 200);
  assert.equal(scrape.headers['content-type'], 'text/plain; version=0.0.4; charset=utf-8');
  assert.match(scrape.body, /^# HELP cmdb_hook_cmdb_writes_total CMDB writes by outcome\.$/m);
  assert.match(scrape.body, /^# TYPE cmdb_hook_cmdb_writes_total counter$/m);
  assert.match(scrape.body, /^cmdb_hook_cmdb_writes_total\{outcome="ok"\} 3$/m);
  assert.match(scrape.body, /^cmdb_hook_cmdb_writes_total\{outcome="rejected"\} 1$/m);
  assert.equal(Number(scrape.headers['content-length']), Buffer.byteLength(scrape.body));
  const withQuery = await ask(address.port, 'GET', '/metrics?name[]=x');
  assert.equal(withQuery.status, 200, 'a query string does not change the path');
});

test('other paths are 404; other methods on these paths are 405 with Allow; HEAD answers like GET without a body', async (t) => {
  const { address } = await serve(t);
  for (const path of ['/', '/healthz/', '/metricsx', '/HEALTHZ', '/deregister']) {
    const reply = await ask(address.port, 'GET', path);
    assert.deepEqual([path, reply.status, reply.body], [path, 404, 'not found\n']);
  }
  for (const [method, path] of [['POST', '/healthz'], ['PUT', '/readyz'], ['DELETE', '/metrics'], ['OPTIONS', '/healthz']] as const) {
    const reply = await ask(address.port, method, path);
    assert.equal(reply.status, 405, `${method} ${path}`);
    assert.equal(reply.headers.allow, 'GET, HEAD');
    assert.match(reply.body, new RegExp(`^method ${method} not allowed; use GET or HEAD\n$`));
  }
  const head = await ask(address.port, 'HEAD', '/healthz');
  assert.deepEqual([head.status, head.body, head.headers['content-length']], [200, '', '3']);
});

test('the caller adds a route to the table: it answers its own method, 405 names it for the others', async (t) => {
  let calls = 0;
  const { address } = await serve(t, {
    routes: { '/deregister': { POST: () => ({ status: 202, body: `deregistering (call ${++calls})\n` }) } },
  });
  const posted = await ask(address.port, 'POST', '/deregister');
  assert.deepEqual([posted.status, posted.body], [202, 'deregistering (call 1)\n']);
  const got = await ask(address.port, 'GET', '/deregister');
  assert.deepEqual([got.status, got.headers.allow], [405, 'POST']);
  assert.equal(calls, 1);
  assert.equal((await ask(address.port, 'GET', '/healthz')).status, 200, 'the built-in endpoints stay');
});

test('a caller route may not take the place of a built-in endpoint', async () => {
  await assert.rejects(
    startEndpoints({ listen: ANY_PORT, live: () => OK, ready: () => OK, registry: createRegistry(), routes: { '/readyz': { GET: () => ({ status: 200, body: '' }) } } }),
    /route \/readyz is one of the built-in endpoints/,
  );
});

test('a request with a body is refused with 413 and its connection closed, the body never read', async (t) => {
  const { address } = await serve(t);
  const reply = await ask(address.port, 'POST', '/healthz', { body: 'x'.repeat(1000) });
  assert.deepEqual([reply.status, reply.headers.connection], [413, 'close']);
});

test('a check that throws is a 500 "internal error" (its message only in the log), and the server goes on', async (t) => {
  const { log, lines } = captureLog();
  const { address } = await serve(t, { ready: () => { throw new Error('queue is gone\nat line 2'); }, log });
  const reply = await ask(address.port, 'GET', '/readyz');
  assert.deepEqual([reply.status, reply.body], [500, 'internal error\n']);
  assert.ok(lines.some((line) => JSON.stringify(line).includes('queue is gone')), 'the message is in the log');
  assert.equal((await ask(address.port, 'GET', '/healthz')).status, 200);
});

test('close() ends promptly with an idle keep-alive client and with a client stuck halfway through its request head', async () => {
  const endpoints = await startEndpoints({ listen: ANY_PORT, live: () => OK, ready: () => OK, registry: createRegistry() });
  const agent = new Agent({ keepAlive: true, keepAliveMsecs: 60_000 });
  const first = await ask(endpoints.address.port, 'GET', '/healthz', { agent });
  assert.equal(first.headers.connection, 'keep-alive');
  const [idle] = Object.values(agent.freeSockets).flat();
  assert.ok(idle, 'the keep-alive socket sits idle in the agent');
  const idleClosed = once(idle, 'close');
  const stuck = connect(endpoints.address.port, '127.0.0.1');
  await once(stuck, 'connect');
  stuck.write('GET /healthz HTTP/1.1\r\nHost: x\r\n');
  const stuckClosed = once(stuck, 'close');
  await new Promise((resolve) => setTimeout(resolve, 50));
  const started = performance.now();
  await endpoints.close();
  await Promise.all([idleClosed, stuckClosed]);
  const took = performance.now() - started;
  // Idle sockets end at once and busy ones after a 500 ms grace; Node's own keep-alive timeout would be 5 s and a
  // stuck head would hold close() for the 5 s headers timeout.
  assert.ok(took < 3_000, `close() took ${took.toFixed(0)} ms`);
  agent.destroy();
  await assert.rejects(ask(endpoints.address.port, 'GET', '/healthz'), { code: 'ECONNREFUSED' });
});

test('an address in use is a ConfigError naming the flag', async (t) => {
  const { address } = await serve(t);
  await assert.rejects(
    startEndpoints({ listen: parseListenAddress('listen', `127.0.0.1:${address.port}`), live: () => OK, ready: () => OK, registry: createRegistry() }),
    (error: unknown) => error instanceof ConfigError && error.message === `--listen (CMDB_HOOK_LISTEN) 127.0.0.1:${address.port} is in use by another process; choose another address or port`,
  );
});

test('a caller route that answers what HTTP cannot carry is a 500, and the process goes on', async (t) => {
  const { address } = await serve(t, {
    routes: {
      '/bad-status': { GET: () => ({ status: 1000, body: 'x' }) },
      '/bad-type': { GET: () => ({ status: 200, body: 'x', contentType: 'text/plain\r\nSet-Cookie: a=b' }) },
    },
  });
  for (const path of ['/bad-status', '/bad-type']) {
    const reply = await ask(address.port, 'GET', path);
    assert.equal(reply.status, 500, path);
    assert.equal(reply.headers['set-cookie'], undefined);
    assert.doesNotMatch(reply.body.trimEnd(), /\n/);
  }
  assert.equal((await ask(address.port, 'GET', '/healthz')).status, 200);
});

test('a client that never finishes its request head is answered 408 and dropped after the 5 s headers timeout', async (t) => {
  const { address } = await serve(t);
  const slow = connect(address.port, '127.0.0.1');
  await once(slow, 'connect');
  slow.write('GET /metrics HTTP/1.1\r\nHost: x\r\n');
  let answer = '';
  slow.setEncoding('utf8').on('data', (chunk: string) => (answer += chunk));
  const started = performance.now();
  await once(slow, 'close');
  const took = performance.now() - started;
  assert.match(answer, /^HTTP\/1\.1 408 /);
  // Node checks the timeout once a second: 5 s, give or take that tick and a loaded machine.
  assert.ok(took >= 4_000 && took < 15_000, `dropped after ${took.toFixed(0)} ms`);
});

test('[::1] listens on the IPv6 loopback and answers there', async (t) => {
  const endpoints = await startEndpoints({ listen: { flag: 'listen', host: '::1', port: 0 }, live: () => OK, ready: () => OK, registry: createRegistry() });
  t.after(() => endpoints.close());
  assert.equal(endpoints.address.host, '::1');
  const reply = await new Promise<number>((resolve, reject) => {
    request({ host: '::1', port: endpoints.address.port, path: '/healthz', agent: false }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    }).on('error', reject).end();
  });
  assert.equal(reply, 200);
});

test('/healthz follows a main loop\'s heartbeat', async (t) => {
  const heartbeat = createHeartbeat('the consume loop', 100);
  const { log, lines } = captureLog();
  const { address } = await serve(t, { live: heartbeat.check, log });
  assert.equal((await ask(address.port, 'GET', '/healthz')).status, 200);
  await new Promise((resolve) => setTimeout(resolve, 300));
  const stuck = await ask(address.port, 'GET', '/healthz');
  assert.deepEqual([stuck.status, stuck.body], [503, 'not live\n']);
  assert.match(String(lines.at(-1)?.reason), /^the consume loop last ran \d+\.\d s ago \(allowed 0\.1 s\)$/);
  heartbeat.beat();
  assert.equal((await ask(address.port, 'GET', '/healthz')).status, 200);
});
