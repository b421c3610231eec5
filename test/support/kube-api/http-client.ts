/**
 * A plain HTTPS client for tests that speak to the stand-in directly: requests with the stand-in's CA and token, and
 * watches read as newline-delimited JSON events as they arrive.
 */
import https from 'node:https';
import type { IncomingHttpHeaders } from 'node:http';
import type { KubeObject } from './resources.ts';
import type { Status } from './status.ts';

export interface Answer<T> {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON (trusted to be a T), or undefined when it is not JSON. */
  json: T;
}

export interface KubeList {
  kind: string;
  apiVersion: string;
  metadata: { resourceVersion: string; continue?: string; remainingItemCount?: number };
  items: KubeObject[];
}

export interface Connection {
  url: string;
  ca: string;
  /** undefined: no Authorization header at all. */
  token: string | undefined;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  contentType?: string;
  headers?: Record<string, string>;
}

function open(connection: Connection, path: string, options: CallOptions) {
  const body = options.body === undefined ? undefined : typeof options.body === 'string' ? options.body : JSON.stringify(options.body);
  const headers: Record<string, string> = { Accept: 'application/json', 'User-Agent': 'stand-in-test/1.0', ...options.headers };
  if (connection.token !== undefined) headers.Authorization = `Bearer ${connection.token}`;
  if (body !== undefined) {
    headers['Content-Type'] = options.contentType ?? 'application/json';
    // Node frames a DELETE body only with an explicit length (it does not chunk DELETE by default).
    headers['Content-Length'] = String(Buffer.byteLength(body));
  }
  const request = https.request(new URL(path, connection.url), { method: options.method ?? 'GET', ca: connection.ca, headers });
  request.end(body);
  return request;
}

export function call<T = KubeObject>(connection: Connection, path: string, options: CallOptions = {}): Promise<Answer<T>> {
  return new Promise((resolve, reject) => {
    const request = open(connection, path, options);
    request.on('error', reject);
    request.on('response', (response) => {
      let text = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
      response.on('end', () => {
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: response.statusCode ?? 0, headers: response.headers, text, json: json as T });
      });
    });
  });
}

export interface WatchEvent {
  type: string;
  /** The object, or for an ERROR event a Status. */
  object: KubeObject & Partial<Omit<Status, 'metadata' | 'kind' | 'apiVersion'>>;
}

/** An open watch: the events so far, a wait for the n-th one, the end of the stream, and a way to hang up. */
export interface WatchStream {
  status: number;
  events: WatchEvent[];
  next(count?: number, timeoutMs?: number): Promise<WatchEvent[]>;
  ended: Promise<void>;
  close(): void;
}

export function watch(connection: Connection, path: string): Promise<WatchStream> {
  return new Promise((resolve, reject) => {
    const request = open(connection, path, {});
    request.on('error', reject);
    request.on('response', (response) => {
      const events: WatchEvent[] = [];
      const waiters = new Set<() => void>();
      let buffer = '';
      response.setEncoding('utf8').on('data', (chunk: string) => {
        buffer += chunk;
        let newline = buffer.indexOf('\n');
        while (newline >= 0) {
          const line = buffer.slice(0, newline).trim();
          buffer = buffer.slice(newline + 1);
          if (line) events.push(JSON.parse(line) as WatchEvent);
          newline = buffer.indexOf('\n');
        }
        for (const wake of waiters) wake();
      });
      const ended = new Promise<void>((done) => response.on('close', done));
      resolve({
        status: response.statusCode ?? 0,
        events,
        next: (count = 1, timeoutMs = 5000) =>
          new Promise((done, fail) => {
            const wake = () => {
              if (events.length < count) return;
              clearTimeout(timer);
              waiters.delete(wake);
              done(events.slice(0, count));
            };
            const timer = setTimeout(() => {
              waiters.delete(wake);
              fail(new Error(`watch ${path}: ${events.length} events of ${count} within ${timeoutMs} ms: ${JSON.stringify(events.map((event) => event.type))}`));
            }, timeoutMs);
            waiters.add(wake);
            wake();
          }),
        ended,
        close: () => request.destroy(),
      });
    });
  });
}
