import http from 'node:http';
import https from 'node:https';
import { duplexPair, type Duplex } from 'node:stream';
import type { Got } from 'got';
import type { TlsMaterial } from '../config.ts';
import { timerMs } from '../duration.ts';
import { CmdbRejectedError, CmdbUnavailableError } from '../errors.ts';
import { AGENT_NAME, VERSION } from '../version.ts';
import type { AttemptContext } from './backend.ts';
import { maskerOf } from './masker.ts';
import { ANSWER_LIMITS, readAnswer, type Answer } from './read-answer.ts';
import { parseRetryAfter } from './retry-after.ts';

export interface HttpRequest {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as application/x-www-form-urlencoded (iTop's json_data); excludes `body`. */
  form?: Record<string, string>;
  /** Extra headers of this request (a backend's or a template's); they may carry secrets, which are masked. */
  headers?: Record<string, string>;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  /** The answer's body, secrets masked: at most 1 MiB of a 2xx (more is refused), the start of a longer failure. */
  body: string;
  retryAfterMs: number | undefined;
}

export interface HttpClient {
  send(request: HttpRequest, attempt: AttemptContext): Promise<HttpResponse>;
  /** The request as it would go out, secrets masked: for --dry-run. */
  describe(request: HttpRequest): { method: string; url: string; headers: Record<string, string>; body?: unknown; form?: Record<string, string> };
  /** Replaces every secret this client knows in text from the far side or from a template. */
  mask(this: void, text: string): string;
  /**
   * Loads got and rehearses a request over an in-memory connection (nothing leaves the process), so the code of the
   * request path is compiled before the first real request: register does it while the app starts.
   */
  warmUp(): Promise<void>;
}

export interface HttpClientOptions {
  /** The Authorization header value (`Bearer <token>`, `Token <key>`, `Basic <base64>`), if any. */
  authorization?: string | undefined;
  /** Every secret that may appear in requests or echoes: the token, a password, the encoded credentials. */
  secrets: readonly string[];
  tls: TlsMaterial;
}

const TRANSIENT_STATUS = new Set([408, 425, 429]);

/** 408, 425, 429 and 5xx are worth another attempt; other 4xx are our mistake and will not change. */
export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUS.has(status) || status >= 500;
}

/**
 * One HTTP client for every backend: got with its own retry and redirects off (src/retry is the one retry layer),
 * the run's deadline as its signal, and the credentials held only in here.
 */
export function createHttpClient(options: HttpClientOptions): HttpClient {
  const base: Record<string, string> = { 'user-agent': `${AGENT_NAME}/${VERSION}`, accept: 'application/json' };
  // Whatever comes back from the far side may echo our headers (an error page showing the request): mask secrets.
  const mask = maskerOf(options.secrets);
  let client: Got | undefined;
  // Agents of our own, not Node's global ones: with NODE_USE_ENV_PROXY=1 in the app container, the global agents send
  // everything through the app's HTTP(S)_PROXY. Made on first send: http and https cannot be loaded while the
  // startup snapshot is built (scripts/bundle-prelude.cjs).
  let agents: { http: http.Agent; https: https.Agent } | undefined;
  const load = async (): Promise<Got> => {
    // Loaded on first use: got is the heaviest module here, and --dry-run, --help and config errors never need it.
    const { default: got } = await import('got');
    client ??= got.extend({
      retry: { limit: 0 },
      followRedirect: false,
      throwHttpErrors: false,
      headers: options.authorization ? { ...base, authorization: options.authorization } : base,
      https: { certificateAuthority: options.tls.ca, certificate: options.tls.cert, key: options.tls.key },
    });
    return client;
  };
  const contentType = (request: HttpRequest): Record<string, string> =>
    request.form ? { 'content-type': 'application/x-www-form-urlencoded' } : request.body === undefined ? {} : { 'content-type': 'application/json' };

  return {
    warmUp: async () => rehearse(await load()),
    mask,
    describe(request) {
      const headers = { ...base, ...contentType(request), ...(options.authorization ? { authorization: options.authorization } : {}), ...request.headers };
      return {
        method: request.method,
        url: mask(request.url),
        headers: Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, mask(value)])),
        ...(request.body === undefined ? {} : { body: JSON.parse(mask(JSON.stringify(request.body))) as unknown }),
        ...(request.form ? { form: Object.fromEntries(Object.entries(request.form).map(([name, value]) => [name, mask(value)])) } : {}),
      };
    },
    async send(request, attempt) {
      const got = await load();
      const target = `${request.method} ${mask(request.url)}`;
      let answer: Answer;
      try {
        const stream = got.stream(request.url, {
          method: request.method,
          ...(request.form ? { form: request.form } : request.body === undefined ? {} : { json: request.body }),
          ...(request.headers ? { headers: request.headers } : {}),
          signal: attempt.signal,
          // What is left of the attempt's time: an attempt of several requests never takes longer than one allows.
          timeout: { request: timerMs(attempt.endsAt - performance.now()) },
          agent: (agents ??= { http: new http.Agent(), https: new https.Agent() }),
        });
        answer = await readAnswer(stream, request.form !== undefined || request.body !== undefined);
      } catch (error) {
        const failure = describeFailure(error, target, attempt);
        failure.message = mask(failure.message);
        throw failure;
      }
      const response: HttpResponse = {
        status: answer.status,
        statusText: mask(answer.statusText),
        body: answer.truncated ? mask.cutShort(answer.body) : mask(answer.body),
        retryAfterMs: parseRetryAfter(answer.retryAfter),
      };
      if (answer.truncated && answer.status >= 200 && answer.status < 300) {
        throw new CmdbRejectedError(
          `${target} answered ${statusLine(response)} with a body over ${ANSWER_LIMITS.success / 1024 / 1024} MiB; no CMDB answers one record's request with that much: check --cmdb-url`,
          { status: answer.status },
        );
      }
      return response;
    },
  };
}

/** got itself, loaded (for the startup snapshot, which runs this at build time: src/cli.ts warmUp). */
export async function loadHttpLibrary(): Promise<void> {
  const { default: got } = await import('got');
  got.extend({ retry: { limit: 0 } });
}

/**
 * One PUT with a JSON body through got's stream and readAnswer, as a real request goes, over an in-memory connection
 * that answers 204: the first real request then takes a few milliseconds instead of ~20 of compiling got's request
 * path, which is most of the lag from "app ready" to "registered" (npm run bench, readiness lag).
 */
async function rehearse(got: Got): Promise<void> {
  const connection = (): Duplex => {
    const [ours, theirs] = duplexPair();
    theirs.once('data', () => theirs.end('HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n'));
    return ours;
  };
  await readAnswer(
    got.stream('http://rehearsal.invalid/', {
      method: 'PUT',
      json: { rehearsal: true },
      timeout: { request: 1000 },
      // No agent and our own connection: Node's http client then needs no socket and no name lookup.
      request: (url, options, callback) => http.request(url, { ...options, agent: undefined, createConnection: connection }, callback),
    }),
    true,
  );
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
 * The error for an answer that is not what the backend wanted: transient statuses (408, 425, 429, 5xx) are retried
 * by src/retry, anything else stops at once. `why` says what was wrong with a 2xx answer (an API that answers 200 on
 * failure).
 */
export function answerError(request: HttpRequest, response: HttpResponse, mask: (text: string) => string, why?: string): CmdbRejectedError | CmdbUnavailableError {
  const detail = statusLine(response);
  const message = `${request.method} ${mask(request.url)} answered ${detail}${why ? ` (${why})` : ''}${response.body ? `: ${excerpt(response.body)}` : ''}`;
  if (isTransientStatus(response.status)) return new CmdbUnavailableError(message, { status: response.status, retryAfterMs: response.retryAfterMs });
  return new CmdbRejectedError(message, { status: response.status });
}

/** "201 Created": the status line of an answer, for messages and the summary. */
export function statusLine(response: HttpResponse): string {
  return `${response.status} ${response.statusText}`.trim();
}

/** A body parsed as JSON, or undefined when it is not JSON (an HTML error page, an empty 204). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** --cmdb-url without its trailing slashes, to append API paths to; `<cmdb-url>` for a --dry-run without one. */
export function baseUrlOf(cmdbUrl: URL | undefined): string {
  return cmdbUrl?.href.replace(/\/+$/, '') ?? '<cmdb-url>';
}

/** A short, single-line excerpt of a CMDB error body for messages. */
export function excerpt(body: string, max = 200): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}
