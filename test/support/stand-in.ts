/**
 * A real node:http server on loopback (port 0) for the stand-ins of real CMDBs (NetBox, ServiceNow, Blueking, iTop,
 * Consul): it reads each request whole, logs it, and hands it to the stand-in's route function, which enforces that
 * CMDB's documented contract. Faults can be injected ahead of the routes, as with the sandbox CMDB.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';

export interface StandInRequest {
  method: string;
  /** The path with its query string, as sent. */
  url: string;
  path: string;
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  /** The raw body. */
  text: string;
  /** The body parsed as JSON when the content type says so, else undefined. */
  json: unknown;
  /** The body parsed as a form when the content type says so, else undefined. */
  form: URLSearchParams | undefined;
}

export interface StandInAnswer {
  status: number;
  /** An object is sent as JSON; a string as it is; undefined sends no body. */
  body?: unknown;
  headers?: Record<string, string>;
}

export type Route = (request: StandInRequest) => StandInAnswer;

export interface StandIn {
  url: string;
  requests: StandInRequest[];
  /** The next `times` requests get this answer instead of the routes' (e.g. 503 with Retry-After). */
  injectFault(answer: StandInAnswer, times?: number): void;
  close(): Promise<void>;
}

export async function startStandIn(route: Route): Promise<StandIn> {
  const requests: StandInRequest[] = [];
  const faults: StandInAnswer[] = [];
  const server = http.createServer((incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const type = incoming.headers['content-type'] ?? '';
      const url = new URL(incoming.url ?? '/', 'http://stand-in');
      const request: StandInRequest = {
        method: incoming.method ?? 'GET',
        url: incoming.url ?? '/',
        path: url.pathname,
        query: url.searchParams,
        headers: incoming.headers,
        text,
        json: type.includes('json') && text ? (JSON.parse(text) as unknown) : undefined,
        form: type.includes('x-www-form-urlencoded') ? new URLSearchParams(text) : undefined,
      };
      requests.push(request);
      const answer = faults.shift() ?? route(request);
      const body = answer.body === undefined ? '' : typeof answer.body === 'string' ? answer.body : JSON.stringify(answer.body);
      const headers = { ...(typeof answer.body === 'object' ? { 'content-type': 'application/json' } : {}), ...answer.headers };
      response.writeHead(answer.status, headers).end(body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    injectFault: (answer, times = 1) => faults.push(...Array.from({ length: times }, () => answer)),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
