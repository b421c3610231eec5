/**
 * One small client for the Kubernetes API over node:http(s): JSON in, JSON out, one request at a time, no retries
 * (the loops above decide: list+watch backs off, leader election retries on its period, events give up).
 *   - its own keep-alive agent (never the global one, which NODE_USE_ENV_PROXY would send through a proxy); TLS
 *     material is passed per request, so a rotated client certificate opens a new connection (the agent pools
 *     connections by it) instead of the library's agent cache that keeps the first one;
 *   - a per-request time limit and the caller's AbortSignal; an abort rejects with the signal's reason;
 *   - non-2xx answers become a KubeApiError with the Status reason; Retry-After is read (a 429 from API Priority and
 *     Fairness is plain text); a 401 makes the connection re-read rotating tokens before the next request;
 *   - stream() is for watches: it resolves once a 200's headers are in, and the time limit then stops applying.
 */
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { parseRetryAfter } from '../../retry/retry-after.ts';
import { timerMs } from '../../settings/duration.ts';
import { AGENT_NAME, VERSION } from '../../version.ts';
import type { KubeConnection } from './kube-config.ts';
import { errorFromAnswer, KubeApiError } from './kube-api-error.ts';

export interface KubeRequest {
  method?: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** The API path, e.g. `/api/v1/namespaces/default/pods`. */
  path: string;
  /** Query parameters; undefined ones are left out. */
  query?: Record<string, string | number | boolean | undefined>;
  /** Sent as JSON. */
  body?: unknown;
  /** Default application/json; patches name their kind (application/strategic-merge-patch+json). */
  contentType?: string;
  signal?: AbortSignal;
  /** For request(): the whole exchange; for stream(): until the answer's headers. Default: the client's. */
  timeoutMs?: number;
}

export interface KubeClient {
  readonly connection: KubeConnection;
  /** Sends one request and returns the parsed JSON answer of a 2xx; throws KubeApiError otherwise. */
  request<T>(request: KubeRequest): Promise<T>;
  /** Opens a streaming GET (a watch) and returns the 200 answer to read from; throws KubeApiError otherwise. */
  stream(request: KubeRequest): Promise<IncomingMessage>;
  /** Closes idle connections; open streams end when their signals abort. */
  close(): void;
}

export interface KubeClientOptions {
  /** Default limit of one request (default 30 s). */
  timeoutMs?: number;
  /** Sent as User-Agent after the agent's own name: `cmdb-hook/<version> (<suffix>)`. */
  userAgentSuffix?: string;
}

const NETWORK_REASONS: Record<string, string> = { ETIMEDOUT: 'Timeout', ECONNREFUSED: 'ConnectionRefused', ECONNRESET: 'ConnectionReset' };

export function createKubeClient(connection: KubeConnection, options: KubeClientOptions = {}): KubeClient {
  const defaultTimeoutMs = options.timeoutMs ?? 30_000;
  const userAgent = `${AGENT_NAME}/${VERSION}${options.userAgentSuffix ? ` (${options.userAgentSuffix})` : ''}`;
  const secure = connection.server.protocol === 'https:';
  // Keep-alive probes after 30 s idle, as client-go's dialer: a watch on a quiet namespace must notice a dead peer.
  const agent = secure ? new https.Agent({ keepAlive: true, keepAliveMsecs: 30_000 }) : new http.Agent({ keepAlive: true, keepAliveMsecs: 30_000 });
  const base = connection.server.pathname.replace(/\/+$/, '');

  function urlOf(request: KubeRequest): URL {
    const url = new URL(`${base}${request.path}`, connection.server.origin);
    for (const [name, value] of Object.entries(request.query ?? {})) if (value !== undefined) url.searchParams.set(name, String(value));
    return url;
  }

  interface Opened {
    response: IncomingMessage;
    what: string;
    stopTimer: () => void;
    /** The error to report when reading the body fails: the timeout's, when it fired. */
    failure: (error: unknown) => Error;
  }

  async function open(request: KubeRequest, streaming: boolean): Promise<Opened> {
    const method = request.method ?? 'GET';
    const url = urlOf(request);
    const what = `${method} ${url.pathname}`;
    request.signal?.throwIfAborted();
    let security;
    try {
      security = await connection.requestSecurity();
    } catch (error) {
      // An exec plugin that failed, a token file that cannot be read: worth another try later.
      throw new KubeApiError(`${what}: no credentials: ${(error as Error).message}`, { status: 0, reason: 'CredentialsUnavailable', transient: true, cause: error });
    }
    const body = request.body === undefined ? undefined : JSON.stringify(request.body);
    const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': userAgent, ...security.headers };
    if (body !== undefined) {
      headers['Content-Type'] = request.contentType ?? 'application/json';
      headers['Content-Length'] = String(Buffer.byteLength(body));
    }
    const { headers: _headers, ...tls } = security;
    const timeoutMs = timerMs(request.timeoutMs ?? defaultTimeoutMs);
    return new Promise((resolve, reject) => {
      const sent = (secure ? https : http).request(url, { method, headers, agent, ...tls, ...(request.signal ? { signal: request.signal } : {}) });
      const timeout = new KubeApiError(`${what}: no complete answer within ${timeoutMs} ms`, { status: 0, reason: 'Timeout' });
      let timedOut = false;
      const timer = setTimeout(() => {
        timedOut = true;
        sent.destroy(timeout);
      }, timeoutMs);
      const stopTimer = () => clearTimeout(timer);
      const failure = (error: unknown): Error => (timedOut ? timeout : failureOf(error, what, request.signal));
      sent.on('error', (error) => {
        stopTimer();
        reject(failure(error));
      });
      sent.on('response', (response) => {
        if (streaming) stopTimer();
        resolve({ response, what, stopTimer, failure });
      });
      sent.end(body);
    });
  }

  async function readAll({ response, failure }: Opened): Promise<string> {
    response.setEncoding('utf8');
    let text = '';
    try {
      for await (const chunk of response) text += chunk as string;
    } catch (error) {
      throw failure(error);
    }
    return text;
  }

  function refusal(response: IncomingMessage, what: string, text: string): KubeApiError {
    const status = response.statusCode ?? 0;
    if (status === 401) connection.invalidate();
    return errorFromAnswer(what, status, text, parseRetryAfter(response.headers['retry-after']));
  }

  return {
    connection,
    async request<T>(request: KubeRequest): Promise<T> {
      const opened = await open(request, false);
      const { response, what, stopTimer } = opened;
      try {
        const text = await readAll(opened);
        const status = response.statusCode ?? 0;
        if (status < 200 || status > 299) throw refusal(response, what, text);
        try {
          return JSON.parse(text) as T;
        } catch {
          // A success that is not JSON: a proxy's page or a cut body. Another attempt may do better.
          throw new KubeApiError(`${what}: ${status} answer is not JSON: ${text.slice(0, 100)}`, { status: 0, reason: 'BadResponse' });
        }
      } finally {
        stopTimer();
      }
    },
    async stream(request: KubeRequest): Promise<IncomingMessage> {
      const opened = await open({ ...request, method: 'GET' }, true);
      if (opened.response.statusCode === 200) return opened.response;
      throw refusal(opened.response, opened.what, await readAll(opened));
    },
    close: () => agent.destroy(),
  };
}

/** A request that got no answer: the caller's abort as its reason, a network or TLS error as a KubeApiError. */
function failureOf(error: unknown, what: string, signal: AbortSignal | undefined): Error {
  if (signal?.aborted) return signal.reason instanceof Error ? signal.reason : new Error(String(signal.reason));
  if (error instanceof KubeApiError) return error;
  const code = (error as NodeJS.ErrnoException).code ?? '';
  // A certificate the CA does not sign stays so until someone changes the config: not worth calling transient.
  const tls = /CERT|SSL|TLS|UNABLE_TO_|SELF_SIGNED|HOSTNAME_MISMATCH/.test(code);
  const reason = NETWORK_REASONS[code] ?? (tls ? 'TLSError' : 'NetworkError');
  return new KubeApiError(`${what}: ${(error as Error).message || code}`, { status: 0, reason, transient: !tls, cause: error });
}
