/**
 * A stand-in application with a readiness endpoint, for the tests and the demo.
 *   GET /healthz -> 503 until `readyAfterMs` has passed, then 200.
 * Modes for the bad cases: `never` (always 503), `hang` (accepts, never answers), `slow-body` (200 headers, a body
 * that never ends), `redirect` (302 to /ready on the same host, which answers 200).
 *
 * Run it alone (as the kubelet harness runs it for a container's entrypoint):
 *   node test/support/demo-app.ts [--port 0] [--ready-after 2s] [--mode never] [--ignore-sigterm]
 * It prints {"event":"ready","at":<epoch ms>} when it turns ready, and exits on SIGTERM (unless told to ignore it,
 * like an app with a stuck shutdown, which only SIGKILL ends).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../src/settings/duration.ts';

export type AppMode = 'normal' | 'never' | 'hang' | 'slow-body' | 'redirect';

export interface DemoAppOptions {
  readyAfterMs?: number;
  /** Ready once this many checks have been answered 503, whatever the time (so a slow start of the hook changes nothing). */
  readyAfterChecks?: number;
  mode?: AppMode;
  /** Called when readiness turns on. */
  onReady?: () => void;
  host?: string;
  port?: number;
}

export interface DemoApp {
  readyUrl: string;
  port: number;
  /** performance.now() (this process) at which readiness turned on; undefined until then. */
  readyAt(): number | undefined;
  /** Count of readiness requests received. */
  checks(): number;
  setReady(ready: boolean): void;
  close(): Promise<void>;
}

export async function startDemoApp(options: DemoAppOptions = {}): Promise<DemoApp> {
  const mode = options.mode ?? 'normal';
  let readyAt: number | undefined;
  let checks = 0;
  const setReady = (ready: boolean) => {
    readyAt = ready ? performance.now() : undefined;
    if (ready) options.onReady?.();
  };
  const timer = mode === 'normal' && options.readyAfterMs !== undefined ? setTimeout(() => setReady(true), options.readyAfterMs) : undefined;
  if (mode === 'redirect') setReady(true);

  const server = http.createServer((request, response) => {
    checks++;
    if (mode === 'normal' && options.readyAfterChecks !== undefined && checks > options.readyAfterChecks && readyAt === undefined) setReady(true);
    if (mode === 'hang') return;
    if (mode === 'slow-body') {
      response.writeHead(200, { 'content-type': 'text/plain' });
      response.write('still writing');
      return;
    }
    if (mode === 'redirect' && request.url === '/healthz') {
      response.writeHead(302, { location: '/ready' }).end();
      return;
    }
    const ready = mode !== 'never' && readyAt !== undefined;
    response.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ok' : 'starting');
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port, address } = server.address() as AddressInfo;
  const host = address.includes(':') ? `[${address}]` : address;
  return {
    readyUrl: `http://${host}:${port}/healthz`,
    port,
    readyAt: () => readyAt,
    checks: () => checks,
    setReady,
    close: () =>
      new Promise<void>((resolve) => {
        clearTimeout(timer);
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '0' }, 'ready-after': { type: 'string', default: '2s' }, mode: { type: 'string', default: 'normal' }, 'ignore-sigterm': { type: 'boolean', default: false } },
  });
  const readyAfter = parseDuration(values['ready-after']);
  if (!readyAfter.ok || readyAfter.ms < 0) throw new Error(`--ready-after ${values['ready-after']}: write it like 500ms or 2s`);
  const readyAfterMs = readyAfter.ms;
  const onReady = () => console.log(JSON.stringify({ event: 'ready', at: Date.now() }));
  const app = await startDemoApp({ port: Number(values.port), readyAfterMs, mode: values.mode as AppMode, onReady });
  console.log(JSON.stringify({ event: 'listening', readyUrl: app.readyUrl, mode: values.mode, readyAfterMs }));
  process.on('SIGTERM', () => {
    console.log(JSON.stringify({ event: 'SIGTERM', at: Date.now() }));
    if (!values['ignore-sigterm']) void app.close().then(() => process.exit(0));
  });
}
