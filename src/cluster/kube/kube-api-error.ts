/**
 * What a Kubernetes API request can fail with, in one class: the HTTP status (0 when no answer came), the Status
 * object's `reason` and `details.causes`, whether another attempt may succeed, and how long the server asked us to
 * wait. Kubernetes answers errors with a `Status` object (API conventions, "Response Status Kind"); a few answers are
 * not JSON at all: API Priority and Fairness rejects with a plain-text 429 and a Retry-After header (k8s.io/apiserver
 * pkg/server/filters priority-and-fairness.go, tooManyRequests), and proxies in front of the server answer HTML.
 *
 * Transient: no answer (network, TLS handshake cut, timeout), 429 and 5xx. Everything else is permanent, 409
 * (Conflict, AlreadyExists) and 410 (Expired, Gone) included: they are answers the callers act on (lost a race,
 * relist), not failures to retry blindly.
 *
 * Not a HookError: what a controller does with it (retry, step down, exit) is the controller's decision, and the exit
 * codes of the hooks do not apply to it.
 */

export interface StatusCause {
  reason?: string;
  message?: string;
  field?: string;
}

/** The part of a meta/v1 Status this client reads. */
export interface KubeStatus {
  kind?: string;
  code?: number;
  reason?: string;
  message?: string;
  metadata?: { continue?: string };
  details?: { name?: string; kind?: string; causes?: StatusCause[]; retryAfterSeconds?: number };
}

// The reason client-go gives an error answer that carries no Status (k8s.io/apimachinery pkg/api/errors
// errors.go, reasonForCode and NewGenericServerResponse).
const REASONS: Record<number, string> = {
  400: 'BadRequest',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'NotFound',
  405: 'MethodNotAllowed',
  406: 'NotAcceptable',
  409: 'Conflict',
  410: 'Gone',
  415: 'UnsupportedMediaType',
  422: 'Invalid',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  readonly code = 'ERR_KUBE_API';
  /** The HTTP status, or 0 when no answer came (refused, reset, TLS, timeout). */
  readonly status: number;
  /** The Status reason (`Conflict`, `AlreadyExists`, `Expired`, `Forbidden`, ...), or what the status code means. */
  readonly reason: string;
  readonly transient: boolean;
  /** Milliseconds the server asked us to wait (Retry-After, or details.retryAfterSeconds). */
  readonly retryAfterMs: number | undefined;
  readonly causes: readonly StatusCause[];

  constructor(message: string, options: { status: number; reason: string; transient?: boolean; retryAfterMs?: number; causes?: StatusCause[]; cause?: unknown }) {
    super(message, { cause: options.cause });
    this.status = options.status;
    this.reason = options.reason;
    this.transient = options.transient ?? isTransientStatus(options.status);
    this.retryAfterMs = options.retryAfterMs;
    this.causes = options.causes ?? [];
  }
}

/** No answer, 429 and 5xx may go away; any other answer will not change by asking again. */
export function isTransientStatus(status: number): boolean {
  return status === 0 || status === 429 || status >= 500;
}

/**
 * The error for an answer that is not a success: `what` names the request (`GET /api/v1/pods`), `body` is the raw
 * text. A Status body gives reason, message and causes; any other body gives its first line, cut short.
 */
export function errorFromAnswer(what: string, status: number, body: string, retryAfterMs: number | undefined): KubeApiError {
  const parsed = parseStatus(body);
  const reason = parsed?.reason || REASONS[status] || (status >= 500 ? 'InternalError' : 'Unknown');
  const text = parsed?.message ?? body.trim().split('\n', 1)[0]?.slice(0, 200) ?? '';
  const asked = retryAfterMs ?? (parsed?.details?.retryAfterSeconds === undefined ? undefined : parsed.details.retryAfterSeconds * 1000);
  return new KubeApiError(`${what}: ${status} ${reason}${text ? `: ${text}` : ''}`, { status, reason, retryAfterMs: asked, causes: parsed?.details?.causes });
}

/** The error for an ERROR event inside a watch stream, whose object is a Status. */
export function errorFromStatus(what: string, status: KubeStatus): KubeApiError {
  const code = status.code ?? 500;
  const reason = status.reason || REASONS[code] || 'InternalError';
  return new KubeApiError(`${what}: ${code} ${reason}${status.message ? `: ${status.message}` : ''}`, { status: code, reason, causes: status.details?.causes });
}

function parseStatus(body: string): KubeStatus | undefined {
  try {
    const value = JSON.parse(body) as unknown;
    if (typeof value === 'object' && value !== null && (value as KubeStatus).kind === 'Status') return value;
  } catch {
    // not JSON: a plain-text 429 or a proxy's page
  }
  return undefined;
}

/** A 410 in any form (HTTP or in-stream, reason Expired or Gone): the resourceVersion or continue token is too old. */
export const isGone = (error: unknown): boolean => error instanceof KubeApiError && error.status === 410;
