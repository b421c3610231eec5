/**
 * Table-driven readiness cases: each case is an app (one node:http handler served on two loopback ports, and on an
 * https port when asked) and what the kubelet's httpGet probe makes of it. The built hook runs `register --strict`
 * against `<base>/` as the kubelet execs it; a ready case must register (exit 0) with or without the kubelet's warning,
 * a not-ready case must end with exit 3 naming what it saw last, and never with 1.
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { test } from 'node:test';
import { makeCertificates, type Certificates } from './certificates.ts';
import { runHook } from './run-hook.ts';
import { scene } from './scene.ts';

/** Base URLs of the case's servers, all on 127.0.0.1 and all serving the same handler. */
export interface Apps {
  base: string;
  /** Same host name, another port. */
  other: string;
  /** Same host name, https, another port (only for cases with `secure`). */
  secure: string;
  /** Every request the servers received, in order. */
  seen: { port: number; url: string; headers: http.IncomingHttpHeaders }[];
}

export type Handler = (request: http.IncomingMessage, response: http.ServerResponse, apps: Apps) => void;

export interface ProbeCase {
  name: string;
  /** Where the expectation comes from (a test or a rule of kubernetes or Go). */
  source: string;
  handler: Handler;
  ready: boolean;
  /** Ready cases: the warning the kubelet would record (a ProbeWarning event); none when absent. */
  warning?: RegExp;
  /** Not-ready cases: what the summary names as the last thing seen. */
  detail?: RegExp;
  secure?: boolean;
  /** More about what the app saw. */
  check?: (apps: Apps) => void;
}

let certificates: Certificates | undefined;

export function probeCase(probe: ProbeCase): void {
  // Made now, before any test runs: openssl runs synchronously and would stall the servers of the cases running.
  if (probe.secure) certificates ??= makeCertificates();
  test(`${probe.name} (${probe.source})`, async (t) => {
    const apps = await startApps(probe.handler, probe.secure ?? false);
    t.after(() => apps.close());
    const { cmdb, env, flags } = await scene(t);
    // Long enough for a few full checks after a slow start on a busy machine (the deadline counts from the exec).
    const timeout = probe.ready ? '10s' : '4s';
    const run = await runHook(['register', ...flags, '--ready-url', `${apps.base}/`, '--ready-timeout', '500ms', '--timeout', timeout, '--strict'], { env });
    const warnings = run.logs.filter((line) => line.level === 40).map((line) => String(line.msg));
    if (probe.ready) {
      assert.equal(run.code, 0, run.stderr);
      assert.equal(cmdb.records.size, 1);
      if (probe.warning) assert.ok(warnings.some((warning) => probe.warning!.test(warning)), `warnings: ${JSON.stringify(warnings)}`);
      else assert.deepEqual(warnings, []);
    } else {
      assert.equal(run.code, 3, run.stderr);
      assert.match(run.summary, /the app was not ready at .* within 4s/);
      if (probe.detail) assert.match(run.summary, probe.detail);
      assert.equal(cmdb.requests.length, 0);
    }
    probe.check?.(apps);
  });
}

async function startApps(handler: Handler, secure: boolean): Promise<Apps & { close(): Promise<void> }> {
  const apps: Apps = { base: '', other: '', secure: '', seen: [] };
  const serve = (request: http.IncomingMessage, response: http.ServerResponse) => {
    apps.seen.push({ port: request.socket.localPort ?? 0, url: request.url ?? '', headers: request.headers });
    handler(request, response, apps);
  };
  const servers: http.Server[] = [http.createServer(serve), http.createServer(serve)];
  if (secure && certificates) servers.push(https.createServer({ key: certificates.serverKey, cert: certificates.serverCert }, serve));
  const urls = await Promise.all(
    servers.map(async (server, index) => {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      return `${index === 2 ? 'https' : 'http'}://127.0.0.1:${(server.address() as AddressInfo).port}`;
    }),
  );
  [apps.base, apps.other, apps.secure = ''] = urls as [string, string, string?];
  const close = async () => {
    for (const server of servers) server.closeAllConnections();
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  };
  return Object.assign(apps, { close });
}

/** Handler helpers. */
export const reply = (response: http.ServerResponse, status: number, headers: http.OutgoingHttpHeaders = {}, body = '') =>
  response.writeHead(status, headers).end(body);
export const redirect = (response: http.ServerResponse, status: number, location: string) => reply(response, status, { location });
/** The path of a request, without its query. */
export const pathOf = (request: http.IncomingMessage) => (request.url ?? '/').split('?')[0];
