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
}

export interface HttpResponse {
  status: number;
  statusText: string;
  /** The answer's body, secrets masked: at most 1 MiB of a 2xx (more is refused), the start of a longer failure. */
  body: string;
  retryAfterMs: number | undefined;
}
