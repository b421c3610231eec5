// Nothing is written before the readiness endpoint answers 200-399, exactly one PUT after;
// 5xx, connection refused and a hanging endpoint all count as not ready. Plus the kubelet's probe semantics.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { startDemoApp } from '../support/demo-app.ts';
import { runHook } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

test('503 until ready: one PUT, and only after the app was ready', async (t) => {
  const { cmdb, app, env, flags } = await scene(t, { app: { readyAfterChecks: 10 } });
  const run = await runHook(['register', ...flags, '--ready-url', app!.readyUrl, '--ready-interval', '100ms'], { env });
  assert.equal(run.code, 0, run.stderr);
  const writes = cmdb.writes();
  assert.equal(writes.length, 1);
  assert.equal(writes[0]?.method, 'PUT');
  assert.ok(writes[0].at >= app!.readyAt()!, 'the PUT came after the app turned ready');
  assert.equal(app!.checks(), 11, 'ten checks answered 503, then one 200, then no more');
  assert.equal(cmdb.records.size, 1);
  assert.match(run.summary, /registered as .+_app \(201 Created\)/);
});

test('connection refused counts as not ready; registers once the app starts listening', async (t) => {
  const port = await freePort();
  const { cmdb, env, flags } = await scene(t);
  const running = runHook(['register', ...flags, '--ready-url', `http://127.0.0.1:${port}/healthz`, '--ready-interval', '100ms'], { env });
  await new Promise((resolve) => setTimeout(resolve, 1000));
  assert.equal(cmdb.writes().length, 0, 'nothing written while the port refuses connections');
  const app = await startDemoApp({ port, readyAfterMs: 0 });
  t.after(() => app.close());
  const run = await running;
  assert.equal(run.code, 0, run.stderr);
  assert.equal(cmdb.writes().length, 1);
  assert.ok(cmdb.writes()[0]!.at >= app.readyAt()!);
});

for (const mode of ['never', 'hang', 'slow-body'] as const) {
  test(`an app that is never ready (${mode}): nothing registered, exit 0, and 3 with --strict, within the deadline`, async (t) => {
    const { cmdb, app, env, flags } = await scene(t, { app: { mode } });
    const args = ['register', ...flags, '--ready-url', app!.readyUrl, '--ready-interval', '100ms', '--ready-timeout', '300ms', '--timeout', '2s'];
    const lenient = await runHook(args, { env });
    assert.equal(lenient.code, 0, lenient.stderr);
    assert.match(lenient.summary, /FAILED: the app was not ready at .* within 2s .*nothing registered; exit 0 \(fail-open; --strict exits 3\)/);
    assert.ok(lenient.durationMs < 3000, `ended in ${Math.round(lenient.durationMs)}ms`);
    const strict = await runHook([...args, '--strict'], { env });
    assert.equal(strict.code, 3);
    assert.ok(strict.durationMs < 3000, `ended in ${Math.round(strict.durationMs)}ms`);
    assert.equal(cmdb.requests.length, 0);
  });
}

test('a same-host redirect is followed, like the kubelet probe', async (t) => {
  const { cmdb, app, env, flags } = await scene(t, { app: { mode: 'redirect' } });
  const run = await runHook(['register', ...flags, '--ready-url', app!.readyUrl], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(app!.checks(), 2, 'GET /healthz, then GET /ready');
  assert.equal(cmdb.records.size, 1);
});

test('localhost works whichever loopback the app listens on', async (t) => {
  const families = [{ host: '127.0.0.1' }, ...(await hasIpv6() ? [{ host: '::1' }] : [])];
  for (const { host } of families) {
    const { cmdb, env, flags } = await scene(t);
    const app = await startDemoApp({ host, readyAfterMs: 0 });
    t.after(() => app.close());
    const run = await runHook(['register', ...flags, '--ready-url', `http://localhost:${app.port}/healthz`, '--timeout', '5s'], { env });
    assert.equal(run.code, 0, `${host}: ${run.stderr}`);
    assert.equal(cmdb.records.size, 1, host);
  }
});

test('--ready-tcp: a port alone is ready when either loopback accepts', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const port = await freePort();
  const running = runHook(['register', ...flags, '--ready-tcp', String(port), '--ready-interval', '100ms'], { env });
  await new Promise((resolve) => setTimeout(resolve, 700));
  assert.equal(cmdb.writes().length, 0);
  const listener = net.createServer((socket) => socket.destroy());
  await new Promise<void>((resolve) => listener.listen(port, '127.0.0.1', resolve));
  t.after(() => listener.close());
  const run = await running;
  assert.equal(run.code, 0, run.stderr);
  assert.equal(cmdb.records.size, 1);
});

test('without --ready-url or --ready-tcp it registers at once and warns', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const run = await runHook(['register', ...flags], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(cmdb.records.size, 1);
  assert.ok(run.logs.some((line) => line.level === 40 && String(line.msg).includes('registering at once')));
});

test('an https readiness endpoint with a self-signed certificate is checked without verification, like the kubelet', async (t) => {
  const { makeCertificates } = await import('../support/certificates.ts');
  const certs = makeCertificates();
  const { default: https } = await import('node:https');
  const server = https.createServer({ key: certs.serverKey, cert: certs.serverCert }, (_request, response) => response.end('ok'));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { cmdb, env, flags } = await scene(t);
  const { port } = server.address() as net.AddressInfo;
  const run = await runHook(['register', ...flags, '--ready-url', `https://127.0.0.1:${port}/healthz`], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(cmdb.records.size, 1);
});

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = http.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

function hasIpv6(): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer().once('error', () => resolve(false)).listen(0, '::1', () => server.close(() => resolve(true)));
  });
}
