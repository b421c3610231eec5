import http from 'node:http';
import https from 'node:https';
import type { Got } from 'got';
import type { TlsMaterial } from '../config.ts';
import { timerMs } from '../duration.ts';
import { CmdbRejectedError, CmdbUnavailableError } from '../errors.ts';
import { AGENT_NAME, VERSION } from '../version.ts';
import type { AttemptContext } from './backend.ts';
import { parseRetryAfter } from './retry-after.ts';

export interface HttpRequest {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  body?: unknown;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  body: string;
  retryAfterMs: number | undefined;
}

export interface HttpClient {
  send(request: HttpRequest, attempt: AttemptContext): Promise<HttpResponse>;
  /** The headers a request carries (with a JSON body or without), the token masked: for --dry-run and logs. */
  maskedHeaders(withBody: boolean): Record<string, string>;
  /** Loads got (the heaviest module here, ~20 ms) ahead of the first request. */
  warmUp(): Promise<void>;
}

const TRANSIENT_STATUS = new Set([408, 425, 429]);

/** 408, 425, 429 and 5xx are worth another attempt; other 4xx are our mistake and will not change. */
export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUS.has(status) || status >= 500;
}

/**
 * One HTTP client for every backend: got with its own retry and redirects off (src/retry is the one retry layer),
 * the run's deadline as its signal, and the bearer token held only in here.
 */
export function createHttpClient(options: { token: string | undefined; tls: TlsMaterial }): HttpClient {
  const headers: Record<string, string> = {
    'user-agent': `${AGENT_NAME}/${VERSION}`,
    accept: 'application/json',
  };
  // Whatever comes back from the far side may echo our headers (an error page showing the request): mask the token.
  const mask = maskerOf(options.token);
  let client: Got | undefined;
  // Agents of our own, not Node's global ones: with NODE_USE_ENV_PROXY=1 in the app container, the global agents send
  // everything through the app's HTTP(S)_PROXY. Made on first send: http and https cannot be loaded while the
  // startup snapshot is built (src/build/bundle-prelude.cjs).
  let agents: { http: http.Agent; https: https.Agent } | undefined;
  const load = async (): Promise<Got> => {
    // Loaded on first use: got is the heaviest module here, and --dry-run, --help and config errors never need it.
    const { default: got } = await import('got');
    client ??= got.extend({
      retry: { limit: 0 },
      followRedirect: false,
      throwHttpErrors: false,
      headers: options.token ? { ...headers, authorization: `Bearer ${options.token}` } : headers,
      https: { certificateAuthority: options.tls.ca, certificate: options.tls.cert, key: options.tls.key },
    });
    return client;
  };
  return {
    warmUp: async () => void (await load()),
    maskedHeaders: (withBody) => ({
      ...headers,
      ...(withBody ? { 'content-type': 'application/json' } : {}),
      ...(options.token ? { authorization: 'Bearer ***' } : {}),
    }),
    async send(request, attempt) {
      const got = await load();
      const target = `${request.method} ${request.url}`;
      try {
        const response = await got(request.url, {
          method: request.method,
          ...(request.body === undefined ? {} : { json: request.body }),
          signal: attempt.signal,
          timeout: { request: timerMs(attempt.timeoutMs) },
          agent: (agents ??= { http: new http.Agent(), https: new https.Agent() }),
        });
        return {
          status: response.statusCode,
          statusText: mask(response.statusMessage ?? ''),
          body: mask(typeof response.body === 'string' ? response.body : ''),
          retryAfterMs: parseRetryAfter(response.headers['retry-after']),
        };
      } catch (error) {
        const failure = describeFailure(error, target, attempt);
        failure.message = mask(failure.message);
        throw failure;
      }
    },
  };
}

// TLS failures are configuration problems (wrong CA, wrong name): retrying until the deadline would not fix them.
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|ERR_SSL|EPROTO|HANDSHAKE/;

/** Turns got's error into ours, without its options object (which holds the Authorization header). */
function describeFailure(error: unknown, target: string, attempt: AttemptContext): Error {
  const code = (error as { code?: string }).code ?? 'ERROR';
  const reason = error instanceof Error ? error.message : String(error);
  if (attempt.signal.aborted) return new CmdbUnavailableError(`${target}: no answer before the deadline`);
  if (code === 'ETIMEDOUT') return new CmdbUnavailableError(`${target}: no complete answer within ${Math.round(attempt.timeoutMs)}ms`);
  if (TLS_CODES.test(code)) {
    return new CmdbRejectedError(`${target}: TLS failed (${code}); check --cmdb-ca-file, --cmdb-cert-file and --cmdb-key-file`);
  }
  return new CmdbUnavailableError(`${target}: ${code} ${firstLine(reason)}`.trim());
}

/**
 * Replaces the token in text from the far side with ***, in the forms a server may echo it: as is, JSON-escaped
 * (PHP escapes `/` as `\/`), and percent-encoded (either hex case).
 */
export function maskerOf(token: string | undefined): (text: string) => string {
  if (!token) return (text) => text;
  const encoded = encodeURIComponent(token);
  const forms = [...new Set([token, JSON.stringify(token).slice(1, -1).replaceAll('/', '\\/'), encoded, encoded.replace(/%[0-9A-F]{2}/g, (hex) => hex.toLowerCase())])];
  const pattern = new RegExp(forms.map((form) => form.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('|'), 'g');
  return (text) => text.replace(pattern, '***');
}

/** A short, single-line excerpt of a CMDB error body for messages. */
export function excerpt(body: string, max = 200): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}
