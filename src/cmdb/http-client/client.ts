import http from 'node:http';
import https from 'node:https';
import type { Got } from 'got';
import { CmdbRejectedError } from '../../errors.ts';
import type { TimeBudget } from '../../retry/time-budget.ts';
import { timerMs } from '../../settings/duration.ts';
import { AGENT_NAME, VERSION } from '../../version.ts';
import type { TlsMaterial } from '../connection.ts';
import { statusLine } from './answers.ts';
import { describeFailure } from './failures.ts';
import type { AnswerLimit, HttpRequest, HttpResponse } from './http-types.ts';
import { maskerOf } from './masker.ts';
import { ANSWER_LIMITS, readAnswer, type Answer } from './read-answer.ts';
import { rehearse } from './rehearse.ts';
import { parseRetryAfter } from '../../retry/retry-after.ts';

const ONE_RECORD: AnswerLimit = { bytes: ANSWER_LIMITS.success, tooLarge: "no CMDB answers one record's request with that much: check --cmdb-url" };

export interface HttpClient {
  send(request: HttpRequest, attempt: TimeBudget): Promise<HttpResponse>;
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
  // startup snapshot is built (scripts/bundle-prelude.cjs). Keep-alive: the long-running modes send thousands of
  // requests to one CMDB, and a TCP (and TLS) handshake per request cost a fifth of the controller's CPU in its first
  // run; Node's agent honours the server's Keep-Alive timeout, idle sockets do not hold a hook's process open, and a
  // socket the CMDB closed under a reused request fails as transient, which the retry layer retries.
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
          agent: (agents ??= { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) }),
        });
        answer = await readAnswer(stream, request.form !== undefined || request.body !== undefined, (request.answerLimit ?? ONE_RECORD).bytes);
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
        const limit = request.answerLimit ?? ONE_RECORD;
        throw new CmdbRejectedError(`${target} answered ${statusLine(response)} with a body over ${limit.bytes / 1024 / 1024} MiB; ${limit.tooLarge}`, { status: answer.status });
      }
      return response;
    },
  };
}

/** got itself, loaded (for the startup snapshot, which runs this at build time: src/cli/warm-up.ts). */
export async function loadHttpLibrary(): Promise<void> {
  const { default: got } = await import('got');
  got.extend({ retry: { limit: 0 } });
}
