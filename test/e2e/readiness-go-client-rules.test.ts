// The kubelet's probe runs on Go's net/http client; its rules, ported: which 3xx are followed (client.go
// redirectBehavior), how many (defaultCheckRedirect, TestClientRedirects), a 3xx without Location
// (TestClientRedirectNoLocation), a Location that does not parse, the body read before following, the header size
// limit (Transport MaxResponseHeaderBytes). Whatever the app answers, the run ends with 0 or 3, never 1.
import assert from 'node:assert/strict';
import { describe } from 'node:test';
import { pathOf, probeCase, redirect, reply, type Apps, type Handler } from '../support/probe-cases.ts';

const BEHAVIOR = 'Go net/http client.go redirectBehavior';
const NOT_FOLLOWED = /answered \d{3} \(a redirect not followed\); counted as ready with a warning/;

/** /?n=k redirects to /?n=k+1 until `last`, which answers 200; `away` makes that last one redirect to another host. */
const chain = (last: number, away = false): Handler => (request, response) => {
  const n = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('n') ?? 0);
  if (n < last) return redirect(response, 302, `/?n=${n + 1}`);
  if (away) return redirect(response, 302, 'http://0.0.0.0/fail');
  reply(response, 200);
};
const highestN = (apps: Apps) => Math.max(...apps.seen.map((seen) => Number(new URL(seen.url, 'http://x').searchParams.get('n') ?? 0)));
const to = (location: string): Handler => (request, response) => (pathOf(request) === '/' ? redirect(response, 302, location) : reply(response, 200));

describe("Go's client rules under the kubelet probe", { concurrency: 2 }, () => {
  probeCase({ name: '303 to /success', source: `${BEHAVIOR}: 301, 302, 303 followed`, ready: true, handler: (q, r) => (pathOf(q) === '/' ? redirect(r, 303, '/success') : reply(r, 200)) });
  for (const status of [300, 304, 305, 306]) {
    probeCase({
      name: `${status} with a Location to /fail: not followed, ready with a warning`,
      source: `${BEHAVIOR} follows only 301, 302, 303, 307, 308; kubernetes http.go: 300-399 is probe.Warning`,
      ready: true,
      warning: NOT_FOLLOWED,
      handler: (q, r) => (pathOf(q) === '/' ? redirect(r, status, '/fail') : reply(r, 500)),
      check: (apps) => assert.ok(apps.seen.every((seen) => seen.url === '/'), 'never followed'),
    });
  }
  for (const status of [301, 308]) {
    probeCase({ name: `${status} without a Location`, source: 'Go client_test.go TestClientRedirectNoLocation (issues 17773, 49281)', ready: true, warning: NOT_FOLLOWED, handler: (_q, r) => reply(r, status, { foo: 'Bar' }) });
  }

  probeCase({
    name: '9 redirects, then 200: 10 requests, ready',
    source: 'Go client.go defaultCheckRedirect: an error once len(via) >= 10; client_test.go TestClientRedirects (Referer)',
    ready: true,
    handler: chain(9),
    check: (apps) => {
      assert.equal(highestN(apps), 9);
      assert.equal(apps.seen.find((seen) => seen.url === '/?n=7')?.headers.referer, `${apps.base}/?n=6`);
    },
  });
  probeCase({
    name: '10 redirects: the 10th is not followed, the check fails',
    source: 'Go client_test.go TestClientRedirects: "Get /?n=10: stopped after 10 redirects"',
    ready: false,
    detail: /last: stopped after 10 redirects \(the last to \/\)\)/,
    handler: chain(10),
    check: (apps) => assert.equal(highestN(apps), 9, 'the app never saw /?n=10'),
  });
  probeCase({
    name: 'the 10th answer redirects to another host: ready with a warning',
    source: 'kubernetes http.go RedirectChecker: the host name is checked before the count',
    ready: true,
    warning: /answered 302 to 0\.0\.0\.0, another host: not followed/,
    handler: chain(9, true),
  });

  probeCase({
    name: 'Referer on each hop, but none from https to http',
    source: 'Go client.go refererForURL: no Referer when going from https to http',
    ready: true,
    secure: true,
    handler: (request, response, apps) => {
      const path = pathOf(request);
      if (path === '/') return redirect(response, 302, `${apps.secure}/tls`);
      if (path === '/tls') return redirect(response, 302, `${apps.other}/plain`);
      reply(response, 200);
    },
    check: (apps) => {
      assert.deepEqual(apps.seen.map((seen) => seen.url), ['/', '/tls', '/plain']);
      assert.equal(apps.seen[1]?.headers.referer, `${apps.base}/`, 'http to https: the previous URL');
      assert.equal(apps.seen[2]?.headers.referer, undefined, 'https to http: none');
    },
  });

  for (const [location, why] of [
    ['http://[bad', /invalid URL/],
    ['http://exa mple/', /invalid URL/],
    ['/ready%zz', /invalid URL escape "%zz"/],
    ['/re\tady', /invalid control character in URL/],
  ] as const) {
    probeCase({
      name: `Location ${JSON.stringify(location)}: a failed check, not a crash`,
      source: 'Go client.go: "failed to parse Location header" is a client error, a failed probe for the kubelet',
      ready: false,
      detail: new RegExp(`last: failed to parse Location header ${escape(JSON.stringify(location))}: ${why.source}`),
      handler: to(location),
    });
  }
  probeCase({
    name: 'same host, another scheme than http(s)',
    source: 'Go transport.go: unsupported protocol scheme',
    ready: false,
    detail: /last: unsupported protocol scheme "ftp"\)/,
    handler: (q, r, apps) => (pathOf(q) === '/' ? redirect(r, 302, `ftp://127.0.0.1:${new URL(apps.base).port}/`) : reply(r, 200)),
  });
  probeCase({
    name: '101 Switching Protocols',
    source: 'Go returns a 101 as the final answer; kubernetes http.go: below 200 fails',
    ready: false,
    detail: /last: 101\)/,
    handler: (request) => request.socket.end('HTTP/1.1 101 Switching Protocols\r\nconnection: upgrade\r\nupgrade: x\r\n\r\n'),
  });

  probeCase({
    name: '302 with a body that never ends: not followed in time',
    source: 'Go client.go: up to 2 KiB of a redirect body of unknown length is read before following (maxBodySlurpSize)',
    ready: false,
    detail: /last: no answer within 500ms\)/,
    handler: (q, r) => (pathOf(q) === '/' ? void r.writeHead(302, { location: '/success' }).write('moved') : reply(r, 200)),
    check: (apps) => assert.ok(apps.seen.every((seen) => seen.url === '/'), 'never followed'),
  });
  probeCase({
    name: '302 announcing 4 KiB of body that never comes: followed at once',
    source: 'Go client.go: a redirect body longer than 2 KiB is closed unread',
    ready: true,
    handler: (q, r) => (pathOf(q) === '/' ? void r.writeHead(302, { location: '/success', 'content-length': 4096 }).write('moved') : reply(r, 200)),
  });
  probeCase({
    name: '302 to another host with a body that never ends',
    source: 'kubernetes http.go: the 3xx kept by ErrUseLastResponse has its body read like any answer',
    ready: false,
    detail: /last: 302, body not finished within 500ms\)/,
    handler: (_q, r) => void r.writeHead(302, { location: 'http://0.0.0.0/' }).write('moved'),
  });

  probeCase({
    name: '60 KiB of response headers',
    source: 'Go Transport MaxResponseHeaderBytes (default 10 MiB); Node refuses more than 16 KiB by default',
    ready: true,
    handler: (_q, r) => reply(r, 200, { 'x-large': 'a'.repeat(60 * 1024) }),
  });
  probeCase({
    name: 'response headers above 64 KiB',
    source: "this agent's bound (Go accepts up to 10 MiB): memory inside the app container's limit",
    ready: false,
    detail: /last: response headers larger than 64 KiB\)/,
    handler: (_q, r) => reply(r, 200, { 'x-large': 'a'.repeat(65 * 1024) }),
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
