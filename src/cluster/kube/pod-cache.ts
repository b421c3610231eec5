/**
 * The pods list+watch knows, keyed by UID: a StatefulSet's `web-0` that is deleted and made again is another pod
 * (another UID, maybe another IP), and keying by namespace/name would merge the two. It turns what the loops of
 * each scope (a namespace, or every namespace) report into what the caller sees:
 *   - nothing until every scope has a verdict (listed, or refused with 403), then `synced(all pods, info)`;
 *   - after that, every relist of a scope (410, watchdog, a namespace listable again) gives `synced` again with the
 *     full set, so the caller can tell what was deleted while the watch was away; and watch events come as
 *     added/modified/deleted, decided by the cache (a MODIFIED for an unknown UID is an add);
 *   - a scope the server refuses (403) loses its pods here and is named in `notListable`: the caller must not read
 *     their absence as deletion. `complete` is false while any scope is not listable.
 * A handler that throws is reported as a problem and does not stop the loop.
 */
import type { IPod } from 'kubernetes-models/v1/Pod';

export type Pod = IPod;

/** The scope of one list+watch: a namespace's name, or ALL_NAMESPACES. */
export const ALL_NAMESPACES = '*';

export interface SyncInfo {
  /** Every scope is listed: a pod missing from the set is gone. */
  complete: boolean;
  /** Scopes the server refuses to list (403). */
  notListable: string[];
  /** The scopes whose list this synced carries fresh. */
  relisted: string[];
}

export interface PodHandler {
  /** A page of the first list, as it comes: what it holds is there, nothing yet says what is gone. */
  page?(pods: Pod[]): void;
  synced(pods: Pod[], info: SyncInfo): void;
  added(pod: Pod): void;
  modified(pod: Pod): void;
  deleted(pod: Pod): void;
}

const keyOf = (pod: Pod) => pod.metadata?.uid ?? `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;

export class PodCache {
  private readonly pods = new Map<string, Pod>();
  private readonly scopes: readonly string[];
  private readonly waiting: Set<string>;
  private readonly notListable = new Set<string>();
  private readonly handler: PodHandler;
  private readonly onHandlerError: (error: unknown) => void;
  private ready = false;

  constructor(scopes: readonly string[], handler: PodHandler, onHandlerError: (error: unknown) => void) {
    this.scopes = scopes;
    this.waiting = new Set(scopes);
    this.handler = handler;
    this.onHandlerError = onHandlerError;
  }

  /** A page of a scope's list, while nothing has been synced yet. */
  page(pods: Pod[]): void {
    if (!this.ready && this.handler.page) this.call(() => this.handler.page?.(pods));
  }

  /** A complete list of one scope: its pods replace what was known there. */
  listed(scope: string, pods: readonly Pod[]): void {
    this.drop(scope);
    for (const pod of pods) this.pods.set(keyOf(pod), pod);
    this.notListable.delete(scope);
    this.verdict(scope);
  }

  /** The server refuses to list this scope. Returns whether this is news (the first refusal since it was listed). */
  refused(scope: string): boolean {
    const news = !this.notListable.has(scope);
    this.notListable.add(scope);
    this.drop(scope);
    if (news) this.verdict(scope);
    return news;
  }

  /** A watch event: the cache changes, and once synced the caller hears of it. */
  event(type: 'ADDED' | 'MODIFIED' | 'DELETED', pod: Pod): void {
    const key = keyOf(pod);
    const known = this.pods.get(key);
    if (type === 'DELETED') {
      this.pods.delete(key);
      if (this.ready) this.call(() => this.handler.deleted(pod));
      return;
    }
    this.pods.set(key, pod);
    if (!this.ready) return;
    // resourceVersions are opaque: equal means the same state again (nothing to tell); no other comparison is valid.
    if (known && known.metadata?.resourceVersion === pod.metadata?.resourceVersion) return;
    this.call(() => (known ? this.handler.modified(pod) : this.handler.added(pod)));
  }

  private drop(scope: string): void {
    for (const [key, pod] of this.pods) if (scope === ALL_NAMESPACES || pod.metadata?.namespace === scope) this.pods.delete(key);
  }

  private verdict(scope: string): void {
    this.waiting.delete(scope);
    if (this.waiting.size > 0) return;
    const listed = (this.ready ? [scope] : this.scopes).filter((each) => !this.notListable.has(each));
    this.ready = true;
    const info: SyncInfo = { complete: this.notListable.size === 0, notListable: [...this.notListable], relisted: listed };
    this.call(() => this.handler.synced([...this.pods.values()], info));
  }

  private call(run: () => void): void {
    try {
      run();
    } catch (error) {
      this.onHandlerError(error);
    }
  }
}
