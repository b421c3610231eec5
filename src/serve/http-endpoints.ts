import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { ConfigError } from '../errors.ts';
import { settingName } from '../settings/option.ts';
import { formatListenAddress } from '../settings/listen-address.ts';
import type { ListenAddress } from '../settings/listen-address.ts';

/** What a check says: fine, or why not in one line (it becomes the body of a 503). */
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
  /** GET /metrics: this registry in the Prometheus text format. */
  readonly registry: Registry;
  /** The caller's own routes (the sidecar's /deregister); a path of the three above is refused. */
  readonly routes?: RouteTable;
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

/** The table of the three endpoints every long-running mode has, and the caller's routes beside them. */
export function routeTable(options: Omit<EndpointsOptions, 'listen'>): RouteTable {
  const checked = (check: () => Check | Promise<Check>) => async (): Promise<Answer> => {
    const result = await check();
    return result.ok ? { status: 200, body: 'ok\n' } : { status: 503, body: `${oneLine(result.reason)}\n` };
  };
  const own: RouteTable = {
    '/healthz': { GET: checked(options.live) },
    '/readyz': { GET: checked(options.ready) },
    '/metrics': { GET: async () => ({ status: 200, body: await options.registry.metrics(), contentType: options.registry.contentType }) },
  };
  for (const path of Object.keys(options.routes ?? {})) {
    if (path in own) throw new Error(`route ${path} is one of the built-in endpoints`);
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
    (request, response) => void answer(routes, request, response).catch(() => response.destroy()),
  );
  server.maxRequestsPerSocket = MAX_REQUESTS_PER_SOCKET;
  await listen(server, options.listen);
  const bound = server.address() as AddressInfo;
  return { address: { host: bound.address, port: bound.port }, close: () => close(server) };
}

async function answer(routes: RouteTable, request: IncomingMessage, response: ServerResponse): Promise<void> {
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
      // A check or a collect callback failed: a bug of the caller, shown in one line rather than a hung request.
      result = { status: 500, body: `${oneLine(error instanceof Error ? error.message : String(error))}\n` };
    }
  }
  if (response.destroyed) return;
  try {
    send(response, result);
  } catch (error) {
    // A caller's route answered what HTTP cannot carry (a status outside 100-999, a newline in the content type).
    if (response.headersSent) throw error;
    send(response, { status: 500, body: `${oneLine(error instanceof Error ? error.message : String(error))}\n` });
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
