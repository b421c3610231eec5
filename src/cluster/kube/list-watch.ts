/**
 * List+watch of pods that never stops by itself. It exists because @kubernetes/client-node's informer (2.0.1) is not
 * fit for a controller that must not miss a deletion: it lists without `limit` (one huge answer), watches without
 * bookmarks or timeoutSeconds (its resourceVersion goes stale on quiet namespaces, so a reconnect after a while is a
 * 410 and a full relist), stops on most errors (emits `error` and must be restarted by hand), and keys its cache by
 * namespace/name (a StatefulSet pod recreated under the same name is merged with its predecessor).
 *
 * Per scope (each namespace given, or every namespace in one request when none is):
 *   1. list in pages of `pageSize` (list-pages.ts); the pods go to the cache, which then tells the caller `synced`;
 *   2. watch from the list's resourceVersion, with bookmarks and a server-side timeout drawn from 5 to 10 minutes
 *      (client-go's reflector does the same, so a fleet's watches do not all end together); each event or bookmark
 *      moves the resourceVersion on; a clean end goes on watching from there;
 *   3. 410 (at the start or in-stream) → relist at once; nothing at all for `watchdogMs` → relist (kube-apiserver's
 *      watch cache sends a bookmark every minute, k8s.io/apiserver pkg/storage/cacher defaultBookmarkFrequency, so
 *      silence means a dead connection; a server that sends no bookmarks costs one relist per quiet scope per
 *      `watchdogMs`); any other failure → back off (capped, jittered; Retry-After honoured) and go on from the last
 *      resourceVersion, or relist when there is none yet;
 *   4. 403 → the scope is not listable: reported (problem with `forbidden`), its pods leave the cache, the caller's
 *      next `synced` names it; it is tried again after backoff, and other scopes go on meanwhile.
 * resourceVersions are opaque strings: passed back to the server, never ordered. Abort the signal to stop.
 */
import type { KubeClient } from './api-client.ts';
import { createBackoff, sleep, type BackoffOptions } from './backoff.ts';
import { KubeApiError } from './kube-api-error.ts';
import { listAll } from './list-pages.ts';
import { ALL_NAMESPACES, PodCache, type Pod, type PodHandler } from './pod-cache.ts';
import { watchOnce } from './watch-stream.ts';

export { ALL_NAMESPACES, type Pod, type PodHandler, type SyncInfo } from './pod-cache.ts';

export interface ListWatchProblem {
  /** The namespace, or ALL_NAMESPACES. */
  scope: string;
  action: 'list' | 'watch' | 'handler';
  error: unknown;
  /** 403: the scope is not listable; say so loudly. */
  forbidden: boolean;
  /** The stream stopped without a word for watchdogMs. */
  stalled: boolean;
  /** When the loop tries again (0: at once). */
  retryInMs: number;
}

export interface ListWatchOptions {
  client: KubeClient;
  /** Namespaces to watch, one list+watch each; empty or unset: every namespace with one list+watch. */
  namespaces?: readonly string[];
  labelSelector?: string;
  fieldSelector?: string;
  /** Default 500. */
  pageSize?: number;
  /** The server ends each watch after a time drawn from this range (default 300 to 600 s). */
  watchTimeoutSeconds?: { min: number; max: number };
  /** Relist when a watch is silent this long (default 3 min). */
  watchdogMs?: number;
  backoff?: BackoffOptions;
  /** Told of every failure; the loop goes on. */
  onProblem?: (problem: ListWatchProblem) => void;
  /** What of each pod to keep (slim-pod.ts), applied as it arrives; default all of it. */
  transform?: (pod: Pod) => Pod;
  signal: AbortSignal;
}

/** A clean end of a watch sooner than this, with nothing received, counts as a failure (no tight reconnect loop). */
const TOO_SHORT_MS = 1000;

/** Runs until the signal aborts; resolves then. */
export async function listWatchPods(options: ListWatchOptions, handler: PodHandler): Promise<void> {
  const scopes = options.namespaces?.length ? [...new Set(options.namespaces)] : [ALL_NAMESPACES];
  const report = (problem: ListWatchProblem) => {
    try {
      options.onProblem?.(problem);
    } catch {
      // a reporter that throws must not stop the loop
    }
  };
  const cache = new PodCache(scopes, handler, (error) => report({ scope: '', action: 'handler', error, forbidden: false, stalled: false, retryInMs: 0 }));
  await Promise.all(scopes.map((scope) => runScope(scope, options, cache, report)));
}

/** A first page of 100 pods arrives in a fifth of a 500-pod page's time: the first writes start that much sooner. */
const FIRST_PAGE = 100;

async function runScope(scope: string, options: ListWatchOptions, cache: PodCache, report: (problem: ListWatchProblem) => void): Promise<void> {
  const { client, signal } = options;
  const path = scope === ALL_NAMESPACES ? '/api/v1/pods' : `/api/v1/namespaces/${encodeURIComponent(scope)}/pods`;
  const backoff = createBackoff(options.backoff);
  const range = options.watchTimeoutSeconds ?? { min: 300, max: 600 };
  const watchdogMs = options.watchdogMs ?? 180_000;
  const selectors = { labelSelector: options.labelSelector, fieldSelector: options.fieldSelector };
  const keep = options.transform ?? ((pod: Pod) => pod);
  let resourceVersion: string | undefined;

  const failed = async (action: 'list' | 'watch', error: unknown) => {
    const forbidden = error instanceof KubeApiError && error.status === 403;
    if (forbidden) {
      cache.refused(scope);
      resourceVersion = undefined;
    }
    const retryInMs = backoff.next(error instanceof KubeApiError ? error.retryAfterMs : undefined);
    report({ scope, action, error, forbidden, stalled: false, retryInMs });
    await sleep(retryInMs, signal);
  };

  while (!signal.aborted) {
    if (resourceVersion === undefined) {
      try {
        const list = await listAll<Pod>(client, path, { ...selectors, pageSize: options.pageSize, firstPageSize: FIRST_PAGE, signal, transform: keep, onPage: (pods) => cache.page(pods) });
        resourceVersion = list.resourceVersion;
        backoff.reset();
        cache.listed(scope, list.items);
      } catch (error) {
        if (signal.aborted) return;
        await failed('list', error);
        continue;
      }
    }
    const startedAt = performance.now();
    const timeoutSeconds = Math.round(range.min + Math.random() * (range.max - range.min));
    const { end, received } = await watchOnce<Pod>(client, path, { ...selectors, resourceVersion, timeoutSeconds, watchdogMs, signal }, (event) => {
      if (event.type === 'BOOKMARK') {
        if (event.resourceVersion) resourceVersion = event.resourceVersion;
        return;
      }
      resourceVersion = event.object.metadata?.resourceVersion ?? resourceVersion;
      cache.event(event.type, keep(event.object));
    });
    if (received > 0) backoff.reset();
    switch (end.kind) {
      case 'aborted':
        return;
      case 'closed':
        if (received === 0 && performance.now() - startedAt < TOO_SHORT_MS) await failed('watch', new KubeApiError(`WATCH ${path}: the server ended the watch at once`, { status: 0, reason: 'ConnectionReset' }));
        break;
      case 'gone':
        // The resourceVersion is older than the server's history: only a new list can tell what happened since.
        resourceVersion = undefined;
        break;
      case 'stalled':
        resourceVersion = undefined;
        report({ scope, action: 'watch', error: new KubeApiError(`WATCH ${path}: nothing for ${watchdogMs} ms, not even a bookmark`, { status: 0, reason: 'Stalled' }), forbidden: false, stalled: true, retryInMs: 0 });
        break;
      case 'error':
        await failed('watch', end.error);
        break;
    }
  }
}
