/**
 * WATCH (`?watch=1` / `watch=true`): a 200 with newline-delimited JSON events `{"type","object"}` (docs: api-concepts,
 * "Efficient detection of changes", "Watch bookmarks", "Resource Versions"):
 *   - resourceVersion unset or "0": synthetic ADDED events for the current objects, then every later change;
 *     resourceVersion N: the changes after N replayed from the history, then live (no synthetic ADDED);
 *     N older than the history: 410 Expired "too old resource version", as an in-stream ERROR event on a 200 that then
 *     ends (what kube-apiserver's watch cache does once it has parsed the version, cacher.go newErrWatcher) or, when the
 *     test asks for it, as an HTTP 410 before the stream starts;
 *   - sendInitialEvents=true (with allowWatchBookmarks and resourceVersionMatch=NotOlderThan): the current objects as
 *     ADDED, then a BOOKMARK annotated k8s.io/initial-events-end: "true" (KEP-3157 watch-list);
 *   - selectors filter events, and an object that starts or stops matching arrives as ADDED or DELETED (the latter with
 *     its previous state and the new resourceVersion), as the watch cache's cacheWatcher.convertToWatchEvent does;
 *   - BOOKMARK only with allowWatchBookmarks=true, its object carrying only kind, apiVersion and
 *     metadata.resourceVersion; sent when the test calls bookmark() or every `bookmarkIntervalMs`, never promised;
 *   - timeoutSeconds ends the stream cleanly; test hooks end or cut every stream, send ERROR 410 into them, or stall
 *     them (the connection stays open and silent: events meanwhile are never delivered to those streams).
 */
import type { ServerResponse } from 'node:http';
import { apiVersionOf, type KubeObject, type ResourceType } from './resources.ts';
import type { Change, KubeStore } from './store.ts';
import { badRequest, expired, KubeError, type Status } from './status.ts';
import { parseResourceVersion, selectorOf } from './list.ts';

export type WatchEventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

interface Watcher {
  response: ServerResponse;
  type: ResourceType;
  bookmarks: boolean;
  stalled: boolean;
}

export interface WatchSettings {
  /** How a too-old resourceVersion is answered at watch start: an ERROR event in a 200 stream (default) or an HTTP 410. */
  goneAs: 'event' | 'http';
  /** When set, new watches start stalled too. */
  stallNew: boolean;
}

export class WatchHub {
  private readonly watchers = new Set<Watcher>();
  private readonly store: KubeStore;
  readonly settings: WatchSettings = { goneAs: 'event', stallNew: false };

  constructor(store: KubeStore) {
    this.store = store;
  }

  get open(): number {
    return this.watchers.size;
  }

  /** Starts a watch; throws a KubeError (sent as a plain HTTP error) for what fails before the stream starts. */
  serve(type: ResourceType, namespace: string | undefined, query: URLSearchParams, response: ServerResponse): void {
    const selector = selectorOf(type, query);
    const asked = query.get('resourceVersion') ?? '';
    const bookmarks = query.get('allowWatchBookmarks') === 'true';
    const initialEvents = query.get('sendInitialEvents') === 'true';
    if (initialEvents && (!bookmarks || query.get('resourceVersionMatch') !== 'NotOlderThan')) throw badRequest('sendInitialEvents requires allowWatchBookmarks=true and resourceVersionMatch=NotOlderThan');
    const from = asked === '' || asked === '0' ? undefined : parseResourceVersion(asked);
    let replay: Change[] = [];
    let gone: KubeError | undefined;
    if (from !== undefined && !initialEvents) {
      try {
        replay = this.store.changesAfter(from);
      } catch (error) {
        if (!(error instanceof KubeError) || this.settings.goneAs === 'http') throw error;
        gone = error;
      }
    }
    response.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
    response.flushHeaders();
    response.socket?.setNoDelay(true);
    const watcher: Watcher = { response, type, bookmarks, stalled: this.settings.stallNew };
    const send = (kind: WatchEventType, object: unknown) => {
      if (!watcher.stalled && !response.writableEnded) response.write(`${JSON.stringify({ type: kind, object })}\n`);
    };
    if (gone) {
      send('ERROR', gone.status);
      response.end();
      return;
    }
    const inScope = (object: KubeObject) => namespace === undefined || object.metadata.namespace === namespace;
    const deliver = (change: Change) => {
      if (change.resource !== type || !inScope(change.object)) return;
      const now = change.type !== 'DELETED' && selector.matches(change.object);
      const before = change.previous !== undefined && selector.matches(change.previous);
      if (now && !before) send('ADDED', change.object);
      else if (now && before) send('MODIFIED', change.object);
      else if (!now && before) {
        const last = structuredClone(change.previous) as KubeObject;
        last.metadata.resourceVersion = String(change.resourceVersion);
        send('DELETED', change.type === 'DELETED' ? change.object : last);
      }
    };
    if (from === undefined || initialEvents) for (const object of this.store.list(type, namespace)) if (selector.matches(object)) send('ADDED', object);
    if (initialEvents) send('BOOKMARK', this.bookmarkObject(type, { 'k8s.io/initial-events-end': 'true' }));
    for (const change of replay) deliver(change);
    const unsubscribe = this.store.subscribe(deliver);
    this.watchers.add(watcher);
    const seconds = Number(query.get('timeoutSeconds') ?? '0');
    const timer = seconds > 0 ? setTimeout(() => response.end(), seconds * 1000) : undefined;
    response.on('close', () => {
      clearTimeout(timer);
      unsubscribe();
      this.watchers.delete(watcher);
    });
  }

  private bookmarkObject(type: ResourceType, annotations?: Record<string, string>) {
    return { kind: type.kind, apiVersion: apiVersionOf(type), metadata: { resourceVersion: String(this.store.resourceVersion), ...(annotations ? { annotations } : {}) } };
  }

  /** A BOOKMARK at the current resourceVersion to every open watch that allowed bookmarks; returns how many got one. */
  bookmark(): number {
    let sent = 0;
    for (const watcher of this.watchers) {
      if (!watcher.bookmarks || watcher.stalled || watcher.response.writableEnded) continue;
      watcher.response.write(`${JSON.stringify({ type: 'BOOKMARK', object: this.bookmarkObject(watcher.type) })}\n`);
      sent += 1;
    }
    return sent;
  }

  /** Ends every open watch: cleanly (as timeoutSeconds does) or by cutting the connection. */
  drop(how: 'end' | 'cut' = 'cut'): number {
    const count = this.watchers.size;
    for (const watcher of this.watchers) {
      if (how === 'end') watcher.response.end();
      else watcher.response.destroy();
    }
    return count;
  }

  /** Sends an ERROR event (410 Expired by default, as after etcd compaction of a running watch) and ends each stream. */
  error(status: Status = expired('The resourceVersion for the provided watch is too old.').status): number {
    const count = this.watchers.size;
    for (const watcher of this.watchers) {
      watcher.response.write(`${JSON.stringify({ type: 'ERROR', object: status })}\n`);
      watcher.response.end();
    }
    return count;
  }

  /** Silences every open watch (and new ones while `stallNew`): nothing more is written to them. */
  stall(): number {
    for (const watcher of this.watchers) watcher.stalled = true;
    return this.watchers.size;
  }
}
