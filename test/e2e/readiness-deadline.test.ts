// The promise of README "Readiness": whatever the app does, register ends within --timeout + 1 s, with exit 3 under
// --strict (0 without), nothing registered. Apps that trickle their headers, send endless redirects, send headers
// past the size bound on every check, or keep a redirect's body open; a body that never ends is in readiness.test.ts.
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { test } from 'node:test';
import { runHook } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

const HUGE = 'a'.repeat(256 * 1024);

const apps: Record<string, () => net.Server> = {
  'headers that trickle in, one line every 50 ms': () =>
    net.createServer((socket) => {
      socket.on('error', () => undefined);
      socket.write('HTTP/1.1 200 OK\r\n');
      const timer = setInterval(() => socket.write('x-more: yes\r\n'), 50);
      socket.on('close', () => clearInterval(timer));
    }),
  'redirects without end': () => http.createServer((_request, response) => response.writeHead(302, { location: '/again' }).end()),
  'headers above the bound on every check': () => http.createServer((_request, response) => response.writeHead(200, { 'x-huge': HUGE }).end('ok')),
  'a redirect whose body never ends': () => http.createServer((_request, response) => void response.writeHead(302, { location: '/ready' }).write('moved')),
};

for (const [name, start] of Object.entries(apps)) {
  test(`${name}: not ready, exit 3 within --timeout + 1 s`, async (t) => {
    const server = start();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    t.after(() => {
      if (server instanceof http.Server) server.closeAllConnections();
      server.close();
    });
    const { cmdb, env, flags } = await scene(t);
    const url = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/healthz`;
    const run = await runHook(['register', ...flags, '--ready-url', url, '--timeout', '2s', '--strict'], { env, killAfterMs: 10_000 });
    assert.equal(run.code, 3, run.stderr);
    assert.match(run.summary, /the app was not ready at .* within 2s/);
    assert.ok(run.durationMs < 3000, `ended in ${Math.round(run.durationMs)}ms`);
    assert.equal(cmdb.requests.length, 0);
  });
}
