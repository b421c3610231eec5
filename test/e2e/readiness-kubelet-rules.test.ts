// The kubelet's own httpGet probe tests, ported: kubernetes pkg/probe/http/http_test.go (TestHTTPProbeChecker,
// TestHTTPProbeChecker_NonLocalRedirects with followNonLocalRedirects=false as the kubelet runs it,
// TestHTTPProbeChecker_PayloadTruncated and _PayloadNormal), and the redirect checker of pkg/probe/http/http.go.
// Warning results count as success (pkg/kubelet/prober/prober.go: a ProbeWarning event, then results.Success).
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { pathOf, probeCase, redirect, reply, type Apps, type Handler } from '../support/probe-cases.ts';

const CHECKER = 'kubernetes http_test.go TestHTTPProbeChecker';
const NON_LOCAL = 'kubernetes http_test.go TestHTTPProbeChecker_NonLocalRedirects';
const MAX_BODY = 10 * 1024;

describe('the kubelet httpGet probe tests', { concurrency: 2 }, () => {
  probeCase({ name: '200 with a body', source: `${CHECKER}: handleReq(200, "ok body")`, ready: true, handler: (_q, r) => reply(r, 200, {}, 'ok body') });
  probeCase({ name: '500', source: `${CHECKER}: handleReq(500)`, ready: false, detail: /last: 500\)/, handler: (_q, r) => reply(r, 500, {}, 'fail body') });
  probeCase({
    name: 'the connection closes without an answer',
    source: `${CHECKER}: handleReq(FailureCode) makes the server drop the connection`,
    ready: false,
    detail: /last: (ECONNRESET|socket hang up)\)/,
    handler: (request) => request.socket.destroy(),
  });
  probeCase({ name: 'no answer within the timeout', source: `${CHECKER}: a handler that sleeps past the timeout`, ready: false, detail: /last: no answer within 500ms\)/, handler: () => undefined });

  for (const status of [301, 302, 307, 308]) {
    const handler = (bad: boolean): Handler => (request, response) =>
      pathOf(request) === '/' ? redirect(response, status, '/new') : reply(response, bad ? 500 : 200);
    probeCase({ name: `${status} to /new, which answers 200`, source: `${CHECKER}: redirectHandler(${status}, false)`, ready: true, handler: handler(false) });
    probeCase({ name: `${status} to /new, which answers 500`, source: `${CHECKER}: redirectHandler(${status}, true)`, ready: false, detail: /last: 500\)/, handler: handler(true) });
  }

  for (const body of ['', 'ok body']) {
    probeCase({
      name: `308 to /new, which answers 308 without a Location${body ? ' and a body' : ''}`,
      source: `${CHECKER}: redirectHandlerWithBody(308, ${JSON.stringify(body)}), health probe.Warning`,
      ready: true,
      warning: /answered 308 \(a redirect not followed\); counted as ready with a warning/,
      handler: (request, response) => (pathOf(request) === '/' ? redirect(response, 308, '/new') : reply(response, 308, {}, body)),
    });
  }

  probeCase({
    name: 'request headers: Accept */*, Connection: close, User-Agent, Host, nothing else',
    source: `${CHECKER}: headerKeysNamesHandler wants "Accept\\nConnection\\nUser-Agent" (Host is apart in Go)`,
    ready: true,
    handler: (_q, r) => reply(r, 200),
    check: (apps) => {
      const headers = apps.seen[0]!.headers;
      assert.deepEqual(Object.keys(headers).sort(), ['accept', 'connection', 'host', 'user-agent']);
      assert.equal(headers.accept, '*/*');
      assert.equal(headers.connection, 'close');
      assert.equal(headers['user-agent'], 'cmdb-hook-probe', 'not the kubelet\'s kube-probe/<version>: this is not the kubelet');
      assert.equal(headers.host, new URL(apps.base).host);
    },
  });

  const nonLocal = (location: (apps: Apps) => string): Handler => (request, response, apps) => {
    const path = pathOf(request);
    if (path === '/') return redirect(response, 302, location(apps));
    if (path === '/loop') return redirect(response, 302, '/loop');
    if (path === '/success') return reply(response, 200);
    reply(response, 500);
  };
  probeCase({ name: 'redirect to /success', source: `${NON_LOCAL}: "local success"`, ready: true, handler: nonLocal(() => '/success') });
  probeCase({ name: 'redirect to /fail', source: `${NON_LOCAL}: "local fail"`, ready: false, detail: /last: 500\)/, handler: nonLocal(() => '/fail') });
  probeCase({
    name: 'redirect to the same host name on another port, which answers 200',
    source: `${NON_LOCAL}: "newport success"`,
    ready: true,
    handler: nonLocal((apps) => `${apps.other}/success`),
    check: (apps) => {
      const last = apps.seen.at(-1)!;
      assert.equal(last.port, Number(new URL(apps.other).port), 'followed to the other port');
      assert.equal(last.headers.host, new URL(apps.other).host, 'Host names the new port, as Go sends it');
      assert.equal(last.headers.referer, `${apps.base}/`, 'Referer: the previous URL, as Go sets it');
    },
  });
  probeCase({ name: 'redirect to the same host name on another port, which answers 500', source: `${NON_LOCAL}: "newport fail"`, ready: false, detail: /last: 500\)/, handler: nonLocal((apps) => `${apps.other}/fail`) });
  probeCase({
    name: 'redirect to another host: not followed, ready with a warning',
    source: `${NON_LOCAL}: "bogus nonlocal" http://0.0.0.0/fail, probe.Warning`,
    ready: true,
    warning: /answered 302 to 0\.0\.0\.0, another host: not followed; counted as ready with a warning/,
    handler: nonLocal(() => 'http://0.0.0.0/fail'),
    check: (apps) => assert.ok(apps.seen.every((seen) => seen.url === '/'), 'never followed'),
  });
  probeCase({ name: 'a redirect loop', source: `${NON_LOCAL}: "redirect loop"`, ready: false, detail: /last: stopped after 10 redirects/, handler: nonLocal(() => '/loop') });

  probeCase({
    name: 'another name of the same host is another host: not followed',
    source: 'kubernetes http.go RedirectChecker compares req.URL.Hostname() with via[0].URL.Hostname() as text',
    ready: true,
    warning: /answered 302 to localhost:\d+, another host: not followed/,
    handler: nonLocal((apps) => `http://localhost:${new URL(apps.base).port}/fail`),
  });
  probeCase({
    name: 'same host name, https on another port: followed',
    source: 'kubernetes http.go RedirectChecker compares host names only, not scheme or port',
    ready: true,
    secure: true,
    handler: nonLocal((apps) => `${apps.secure}/success`),
    check: (apps) => assert.equal(apps.seen.at(-1)!.port, Number(new URL(apps.secure).port)),
  });

  const body = (size: number, end: boolean): Handler => (_request, response) => {
    response.writeHead(200).write('a'.repeat(size));
    if (end) response.end();
  };
  probeCase({ name: 'a body of 10 KiB + 1', source: 'kubernetes http_test.go TestHTTPProbeChecker_PayloadTruncated', ready: true, handler: body(MAX_BODY + 1, true) });
  probeCase({ name: 'a body of 10 KiB - 1', source: 'kubernetes http_test.go TestHTTPProbeChecker_PayloadNormal', ready: true, handler: body(MAX_BODY - 1, true) });
  probeCase({ name: '10 KiB of a body that never ends', source: 'kubernetes http.go: utilio.ReadAtMost(body, 10 KiB), ErrLimitReached is not fatal', ready: true, handler: body(MAX_BODY, false) });
  probeCase({ name: 'a short body that never ends', source: 'kubernetes http.go: the client timeout covers the body read', ready: false, detail: /last: 200, body not finished within 500ms\)/, handler: body(100, false) });
  // A body without length or chunks (HTTP/1.0 style) ends when the connection closes: one the app closes is complete,
  // one the check closes at its timeout is not (Node ends both the same way; this was counted as ready).
  const untilClose = (close: boolean): Handler => (request) => {
    const answer = `HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n${'a'.repeat(100)}`;
    if (close) request.socket.end(answer);
    else request.socket.write(answer);
  };
  probeCase({ name: 'a short body ended by closing the connection', source: 'RFC 9112 section 6.3: no length, the body ends when the connection closes', ready: true, handler: untilClose(true) });
  probeCase({ name: 'a short body without length that never ends', source: 'kubernetes http.go: the client timeout covers the body read', ready: false, detail: /last: 200, body not finished within 500ms\)/, handler: untilClose(false) });
});
