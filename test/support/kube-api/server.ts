/**
 * The HTTPS side of the stand-in: a node:https server on loopback (port 0) with an openssl-made certificate, the
 * request log, bearer-token authentication and injected faults, in front of the API routes.
 *   - authentication: `Authorization: Bearer <token>`; no token or an unknown one is 401 Unauthorized on every path
 *     (a kube-apiserver with anonymous auth disabled; an unknown token is never anonymous);
 *   - faults run after authentication, as API Priority and Fairness does: 429 is answered the way APF's
 *     tooManyRequests does, plain text with Retry-After (k8s.io/apiserver pkg/server/filters); other codes as a Status.
 */
import https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { failure, KubeError, unauthorized } from './status.ts';

export interface ApiRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  headers: IncomingMessage['headers'];
  userAgent: string;
  body: string;
  /** The authenticated user name. */
  user: string;
}

export interface LoggedRequest {
  method: string;
  path: string;
  query: URLSearchParams;
  userAgent: string;
  contentType: string;
  body: string;
  /** The answer's status code once sent (200 for a watch stream, whatever it then carries); 0 before. */
  readonly status: number;
  at: Date;
}

export interface Fault {
  status: number;
  /** Only requests this matches get the fault (all by default). */
  match?: (request: ApiRequest) => boolean;
  retryAfterSeconds?: number;
  message?: string;
}

export type Handler = (request: ApiRequest, response: ServerResponse) => void;

export interface HttpsStandIn {
  url: string;
  requests: LoggedRequest[];
  /** The next `times` requests that match get `fault` instead of an answer from the routes. */
  injectFault(fault: Fault, times?: number): void;
  close(): Promise<void>;
}

const REASONS: Record<number, string> = { 409: 'Conflict', 500: 'InternalError', 503: 'ServiceUnavailable', 504: 'Timeout', 404: 'NotFound', 403: 'Forbidden', 401: 'Unauthorized' };

export function sendJson(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', ...headers }).end(JSON.stringify(body));
}

export function sendError(response: ServerResponse, error: KubeError): void {
  sendJson(response, error.status.code, error.status, error.headers);
}

function answerFault(response: ServerResponse, fault: Fault): void {
  const retryAfter: Record<string, string> = fault.retryAfterSeconds === undefined ? {} : { 'Retry-After': String(fault.retryAfterSeconds) };
  if (fault.status === 429) {
    response.writeHead(429, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Retry-After': String(fault.retryAfterSeconds ?? 1) }).end('Too many requests, please try again later.\n');
    return;
  }
  const reason = REASONS[fault.status] ?? 'InternalError';
  sendJson(response, fault.status, failure(fault.status, reason, fault.message ?? `injected fault: ${fault.status}`), retryAfter);
}

export async function startHttps(certificate: { key: string; cert: string }, tokens: Record<string, string>, handle: Handler): Promise<HttpsStandIn> {
  const requests: LoggedRequest[] = [];
  const faults: { fault: Fault; left: number }[] = [];
  const server = https.createServer({ key: certificate.key, cert: certificate.cert }, (incoming, response) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const url = new URL(incoming.url ?? '/', 'https://stand-in');
      const body = Buffer.concat(chunks).toString('utf8');
      const userAgent = incoming.headers['user-agent'] ?? '';
      const logged: LoggedRequest = {
        method: incoming.method ?? 'GET',
        path: url.pathname,
        query: url.searchParams,
        userAgent,
        contentType: incoming.headers['content-type'] ?? '',
        body,
        get status() {
          return response.headersSent ? response.statusCode : 0;
        },
        at: new Date(),
      };
      requests.push(logged);
      const token = /^Bearer (.+)$/i.exec(incoming.headers.authorization ?? '')?.[1];
      const user = token === undefined ? undefined : tokens[token];
      if (user === undefined) return sendError(response, unauthorized());
      const request: ApiRequest = { method: logged.method, path: url.pathname, query: url.searchParams, headers: incoming.headers, userAgent, body, user };
      const pending = faults.find((entry) => entry.left > 0 && (entry.fault.match?.(request) ?? true));
      if (pending) {
        pending.left -= 1;
        return answerFault(response, pending.fault);
      }
      try {
        handle(request, response);
      } catch (error) {
        if (error instanceof KubeError) sendError(response, error);
        else sendJson(response, 500, failure(500, 'InternalError', `Internal error occurred: ${(error as Error).message}`));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `https://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    injectFault: (fault, times = 1) => faults.push({ fault, left: times }),
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
