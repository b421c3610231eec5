import { CmdbRejectedError, CmdbUnavailableError } from '../../errors.ts';
import type { TimeBudget } from '../../retry/time-budget.ts';
import { excerpt, statusLine } from './answers.ts';
import type { HttpRequest, HttpResponse } from './http-types.ts';

/**
 * What a failed request or an unwanted answer means for the retry layer: transient (network errors, 408, 425, 429,
 * 5xx) is retried, anything else stops at once. Decided here, at the CMDB boundary.
 */
const TRANSIENT_STATUS = new Set([408, 425, 429]);

/** 408, 425, 429 and 5xx are worth another attempt; other 4xx are our mistake and will not change. */
export function isTransientStatus(status: number): boolean {
  return TRANSIENT_STATUS.has(status) || status >= 500;
}

// TLS failures are configuration problems (wrong CA, wrong name): retrying until the deadline would not fix them.
const TLS_CODES = /CERT|SELF_SIGNED|UNABLE_TO|ERR_TLS|ERR_SSL|EPROTO|HANDSHAKE/;

/** Turns got's error into ours, without its options object (which holds the Authorization header). */
export function describeFailure(error: unknown, target: string, attempt: TimeBudget): Error {
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

function firstLine(text: string): string {
  return text.split('\n')[0] ?? '';
}
