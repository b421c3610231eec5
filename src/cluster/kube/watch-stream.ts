/**
 * One WATCH request (docs: reference/using-api/api-concepts, "Efficient detection of changes", "Watch bookmarks"):
 * `watch=true` from a resourceVersion, with `allowWatchBookmarks=true` and a `timeoutSeconds` after which the server
 * ends the stream cleanly. The answer is newline-delimited JSON events; this reads them as they come and tells how
 * the stream ended, so the loop above can choose: closed (go on from the last resourceVersion), gone (410 at the
 * start or as an ERROR event: relist), stalled (nothing at all, not even a bookmark, for `watchdogMs`: the connection
 * is dead without a reset, relist), error (back off, go on), aborted (stop).
 * An event line that is not JSON ends the stream as an error rather than being skipped: skipping would lose an event
 * with no trace (client-node's Watch skips it).
 */
import type { KubeClient } from './api-client.ts';
import { errorFromStatus, isGone, KubeApiError } from './kube-api-error.ts';
import type { KubeObject } from './list-pages.ts';

export type WatchEvent<T> = { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: T } | { type: 'BOOKMARK'; resourceVersion: string };

export type WatchEnd = { kind: 'closed' | 'stalled' | 'aborted' } | { kind: 'gone' | 'error'; error: unknown };

export interface WatchOptions {
  resourceVersion: string;
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  timeoutSeconds: number;
  watchdogMs: number;
  signal: AbortSignal;
}

export interface WatchOutcome {
  end: WatchEnd;
  /** Events received, bookmarks included. */
  received: number;
}

export async function watchOnce<T extends KubeObject>(client: KubeClient, path: string, options: WatchOptions, onEvent: (event: WatchEvent<T>) => void): Promise<WatchOutcome> {
  const hangUp = new AbortController();
  const signal = AbortSignal.any([options.signal, hangUp.signal]);
  const what = `WATCH ${path}`;
  let response;
  try {
    response = await client.stream({
      path,
      query: {
        watch: 'true',
        resourceVersion: options.resourceVersion,
        allowWatchBookmarks: 'true',
        timeoutSeconds: options.timeoutSeconds,
        labelSelector: options.labelSelector || undefined,
        fieldSelector: options.fieldSelector || undefined,
      },
      signal,
      timeoutMs: options.watchdogMs,
    });
  } catch (error) {
    if (options.signal.aborted) return { end: { kind: 'aborted' }, received: 0 };
    return { end: { kind: isGone(error) ? 'gone' : 'error', error }, received: 0 };
  }
  const stream = response;
  let received = 0;
  return new Promise((resolve) => {
    let done = false;
    let watchdog: NodeJS.Timeout | undefined;
    const finish = (end: WatchEnd) => {
      if (done) return;
      done = true;
      clearTimeout(watchdog);
      hangUp.abort();
      stream.destroy();
      resolve({ end: options.signal.aborted ? { kind: 'aborted' } : end, received });
    };
    const arm = () => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => finish({ kind: 'stalled' }), options.watchdogMs);
    };
    const handle = (line: string) => {
      let event: { type?: string; object?: unknown };
      try {
        event = JSON.parse(line) as typeof event;
      } catch {
        return finish({ kind: 'error', error: new KubeApiError(`${what}: an event is not JSON: ${line.slice(0, 100)}`, { status: 0, reason: 'BadResponse' }) });
      }
      received += 1;
      const object = event.object as T | undefined;
      switch (event.type) {
        case 'ADDED':
        case 'MODIFIED':
        case 'DELETED':
          if (object) onEvent({ type: event.type, object });
          return;
        case 'BOOKMARK':
          return onEvent({ type: 'BOOKMARK', resourceVersion: object?.metadata?.resourceVersion ?? '' });
        case 'ERROR': {
          const error = errorFromStatus(what, event.object ?? {});
          return finish({ kind: isGone(error) ? 'gone' : 'error', error });
        }
        default:
          // A type this client does not know: nothing to do with it.
          return;
      }
    };
    let buffer = '';
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => {
      arm();
      buffer += chunk;
      for (let end = buffer.indexOf('\n'); end >= 0 && !done; end = buffer.indexOf('\n')) {
        const line = buffer.slice(0, end).trim();
        buffer = buffer.slice(end + 1);
        if (line) handle(line);
      }
    });
    stream.on('end', () => finish({ kind: 'closed' }));
    stream.on('error', (error) => finish({ kind: 'error', error: new KubeApiError(`${what}: ${error.message}`, { status: 0, reason: 'ConnectionReset', cause: error }) }));
    stream.on('close', () => finish(stream.complete ? { kind: 'closed' } : { kind: 'error', error: new KubeApiError(`${what}: the connection closed mid-stream`, { status: 0, reason: 'ConnectionReset' }) }));
    arm();
  });
}
