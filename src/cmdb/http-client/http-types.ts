/** A request as the backends describe it, and the answer as they get it (secrets masked, bounded). */
export interface HttpRequest {
  method: 'GET' | 'PUT' | 'POST' | 'PATCH' | 'DELETE';
  url: string;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as application/x-www-form-urlencoded (iTop's json_data); excludes `body`. */
  form?: Record<string, string>;
  /** Extra headers of this request (a backend's or a template's); they may carry secrets, which are masked. */
  headers?: Record<string, string>;
  /** A larger bound for a 2xx answer than one record's (1 MiB), and what the refusal then says: for list pages. */
  answerLimit?: AnswerLimit;
}

export interface AnswerLimit {
  bytes: number;
  /** Ends the message when a 2xx answer is over `bytes`: why that is too much, what to check. */
  tooLarge: string;
}

export interface HttpResponse {
  status: number;
  statusText: string;
  /** The answer's body, secrets masked: at most 1 MiB of a 2xx (more is refused) or its `answerLimit`, the start of a longer failure. */
  body: string;
  retryAfterMs: number | undefined;
}
