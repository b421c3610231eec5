import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ConfigError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import { settingName } from '../settings/option.ts';
import { formatListenAddress } from '../settings/listen-address.ts';
import type { ListenAddress } from '../settings/listen-address.ts';

/** What a check says: fine, or why not in one line (for the log: the 503's body never carries it). */
export type Check = { readonly ok: true } | { readonly ok: false; readonly reason: string };

/** One answer of a route. Bodies are small text: these endpoints are for probes, scrapes and the app's hooks. */
export interface Answer {
  readonly status: number;
  readonly body: string;
  /** text/plain; charset=utf-8 unless given. */
  readonly contentType?: string;
}

/** A route's handler. It gets the request's head only: no body is ever read. */
export type Handler = (request: IncomingMessage) => Answer | Promise<Answer>;

/** Path -> method -> handler. A GET route answers HEAD too, without the body. */
export type RouteTable = Readonly<Record<string, Readonly<Record<string, Handler>>>>;

export interface EndpointsOptions {
  readonly listen: ListenAddress;
  /** GET /healthz: the process's main loop is alive. Not ok: 503, and the kubelet restarts the container. */
  readonly live: () => Check | Promise<Check>;
  /** GET /readyz: the mode has done what it must before traffic or leadership (registered, synced, connected). */
  readonly ready: () => Check | Promise<Check>;
  /** GET /metrics: this registry in the Prometheus text format; without one, no /metrics (the sidecar loads no prom-client). */
  readonly registry?: Registry;
  /** The caller's own routes (the sidecar's /deregister); a path of the three above is refused. */
  readonly routes?: RouteTable;
  /**
   * Where a failing check's reason and a handler's error go, each time it changes (not at every probe). Answers carry
   * only fixed words: the port is open to every pod of the cluster, and a reason may quote the CMDB's own message.
   */
  readonly log?: Logger;
}

export interface Endpoints {
  /** The bound address: the port the kernel chose when the tests ask for port 0. */
  readonly address: { readonly host: string; readonly port: number };
  /** Stops listening and ends every connection, idle keep-alive ones at once and busy ones after a short grace. */
  close(): Promise<void>;
}

// Bounds that keep a slow or hostile client from holding a connection: the kubelet's probes and Prometheus send a
// small head at once (the kubelet's probe timeout is 1 s by default, Prometheus' scrape timeout 10 s).
const HEADERS_TIMEOUT_MS = 5_000;
const REQUEST_TIMEOUT_MS = 10_000;
// Prometheus keeps its scrape connection open between scrapes; an idle one is closed after this, so no client holds
// sockets for long. Shorter than the usual 15 s scrape interval, like Node's own default of 5 s.
const KEEP_ALIVE_TIMEOUT_MS = 5_000;
const MAX_REQUESTS_PER_SOCKET = 100;
const CLOSE_GRACE_MS = 500;

const TEXT = 'text/plain; charset=utf-8';
const INTERNAL_ERROR: Answer = { status: 500, body: 'internal error\n' };

/** The table of the three endpoints every long-running mode has, and the caller's routes beside them. */
export function routeTable(options: Omit<EndpointsOptions, 'listen'>): RouteTable {
  const checked = (path: string, check: () => Check | Promise<Check>, words: string) => {
    let said: string | undefined;
    return async (): Promise<Answer> => {
      const result = await check();
      const reason = result.ok ? undefined : oneLine(result.reason);
      if (reason !== said && reason !== undefined) options.log?.info({ path, reason }, `${path} answers 503: ${reason}`);
      said = reason;
      return result.ok ? { status: 200, body: 'ok\n' } : { status: 503, body: `${words}\n` };
    };
  };
  const own: Record<string, Readonly<Record<string, Handler>>> = {
    '/healthz': { GET: checked('/healthz', options.live, 'not live') },
    '/readyz': { GET: checked('/readyz', options.ready, 'not ready') },
  };
  const { registry } = options;
  if (registry) own['/metrics'] = { GET: async () => ({ status: 200, body: await registry.metrics(), contentType: registry.contentType }) };
  for (const path of Object.keys(options.routes ?? {})) {
    if (path in own || path === '/metrics') throw new Error(`route ${path} is one of the built-in endpoints`);
    if (!path.startsWith('/')) throw new Error(`route ${JSON.stringify(path)} must start with /`);
  }
  return { ...own, ...options.routes };
}

export async function startEndpoints(options: EndpointsOptions): Promise<Endpoints> {
  const routes = routeTable(options);
  const server = createServer(
    {
      headersTimeout: HEADERS_TIMEOUT_MS,
      requestTimeout: REQUEST_TIMEOUT_MS,
      keepAliveTimeout: KEEP_ALIVE_TIMEOUT_MS,
      // Node checks the two timeouts above only this often (30 s by default), which would stretch them sixfold.
      connectionsCheckingInterval: 1_000,
      // A handful of headers is all a probe or a scrape sends.
      maxHeaderSize: 8 * 1024,
    },
    // Nothing a request does may end the process: a failure this late only drops that one connection.
    (request, response) => void answer(routes, request, response, options.log).catch(() => response.destroy()),
  );
  server.maxRequestsPerSocket = MAX_REQUESTS_PER_SOCKET;
  await listen(server, options.listen);
  const bound = server.address() as AddressInfo;
  return { address: { host: bound.address, port: bound.port }, close: () => close(server) };
}

async function answer(routes: RouteTable, request: IncomingMessage, response: ServerResponse, log: Logger | undefined): Promise<void> {
  const path = (request.url ?? '').split('?', 1)[0] ?? '';
  const methods = Object.hasOwn(routes, path) ? routes[path] : undefined;
  const method = request.method ?? '';
  const handler = methods && (Object.hasOwn(methods, method) ? methods[method] : method === 'HEAD' ? methods.GET : undefined);
  let result: Answer;
  if (hasBody(request)) {
    // Nothing here takes a body; reading one would be unbounded work, so the connection is closed instead.
    result = { status: 413, body: 'request bodies are not accepted\n' };
    response.setHeader('Connection', 'close');
  } else if (!methods) {
    result = { status: 404, body: 'not found\n' };
  } else if (!handler) {
    const allowed = Object.keys(methods);
    if (allowed.includes('GET') && !allowed.includes('HEAD')) allowed.push('HEAD');
    response.setHeader('Allow', allowed.join(', '));
    result = { status: 405, body: `method ${method} not allowed; use ${allowed.join(' or ')}\n` };
  } else {
    try {
      result = await handler(request);
    } catch (error) {
      // A check or a collect callback failed: a bug of the caller, logged, and a 500 rather than a hung request.
      log?.error({ err: error, path }, `${path} failed`);
      result = INTERNAL_ERROR;
    }
  }
  if (response.destroyed) return;
  try {
    send(response, result);
  } catch (error) {
    // A caller's route answered what HTTP cannot carry (a status outside 100-999, a newline in the content type).
    if (response.headersSent) throw error;
    log?.error({ err: error, path }, `${path} answered what HTTP cannot carry`);
    send(response, INTERNAL_ERROR);
  }
}

function send(response: ServerResponse, answer: Answer): void {
  const body = Buffer.from(answer.body);
  response.writeHead(answer.status, {
    'Content-Type': answer.contentType ?? TEXT,
    'Content-Length': body.length,
    'Cache-Control': 'no-store',
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(body);
}

function hasBody(request: IncomingMessage): boolean {
  const length = request.headers['content-length'];
  return request.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

function oneLine(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').trim() || 'not ok';
}

function listen(server: Server, address: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const failed = (error: NodeJS.ErrnoException) => {
      const where = formatListenAddress(address);
      const why = error.code === 'EADDRINUSE' ? 'is in use by another process' : error.code === 'EADDRNOTAVAIL' ? 'is not an address of this host' : `cannot be listened on (${error.code ?? error.message})`;
      reject(new ConfigError(`${settingName(address.flag)} ${where} ${why}; choose another address or port`, { cause: error }));
    };
    server.once('error', failed);
    // No host: Node binds :: and takes IPv4 too (IPV6_V6ONLY off), or 0.0.0.0 on a host without IPv6.
    server.listen({ host: address.host, port: address.port }, () => {
      server.off('error', failed);
      resolve();
    });
  });
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => {
    const force = setTimeout(() => server.closeAllConnections(), CLOSE_GRACE_MS);
    server.close(() => {
      clearTimeout(force);
      resolve();
    });
    // close() itself ends idle keep-alive connections since Node 19; this says so where it matters.
    server.closeIdleConnections();
  });
}
