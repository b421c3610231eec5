/**
 * A LIST in pages (docs: reference/using-api/api-concepts, "Retrieving large results sets in chunks"): `limit`,
 * then `continue` with the token of the page before, and no resourceVersion on later pages (the token carries the
 * snapshot; both together are a 400). Every page of one list shows the same snapshot, so its resourceVersion is the
 * one to watch from. A token can expire (etcd compaction, about every 5 minutes): the server answers 410 Expired,
 * and the list starts again from the first page (the "inconsistent" token the 410 offers would mix two snapshots).
 * After `maxRestarts` expiries in a row the 410 goes to the caller, which backs off.
 */
import type { KubeClient } from './api-client.ts';
import { isGone } from './kube-api-error.ts';

export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; uid?: string; resourceVersion?: string };
}

interface KubeList<T> {
  apiVersion?: string;
  kind?: string;
  metadata?: { resourceVersion?: string; continue?: string };
  items?: T[];
}

export interface ListOptions<T = KubeObject> {
  labelSelector?: string | undefined;
  fieldSelector?: string | undefined;
  /** Default 500, as client-go's pager. */
  pageSize?: number;
  /** The first page's size, if smaller (a continue token works with any later limit). */
  firstPageSize?: number;
  maxRestarts?: number;
  signal?: AbortSignal;
  /** What of each item to keep, applied page by page: a 10,000-pod list kept whole until its end peaks at hundreds
   *  of MiB (npm run bench), each page kept slim holds one page's worth at a time. */
  transform?: (item: T) => T;
  /** Told each page's items as it comes (kept ones), before the next is asked for. */
  onPage?: (items: T[]) => void;
}

export interface ListResult<T> {
  items: T[];
  /** The snapshot's resourceVersion: opaque, only ever passed back or compared for equality. */
  resourceVersion: string;
  pages: number;
}

export async function listAll<T extends KubeObject>(client: KubeClient, path: string, options: ListOptions<T> = {}): Promise<ListResult<T>> {
  const pageSize = options.pageSize ?? 500;
  for (let restarts = 0; ; restarts++) {
    try {
      return await listOnce<T>(client, path, pageSize, options);
    } catch (error) {
      if (!isGone(error) || restarts >= (options.maxRestarts ?? 3)) throw error;
    }
  }
}

async function listOnce<T extends KubeObject>(client: KubeClient, path: string, pageSize: number, options: ListOptions<T>): Promise<ListResult<T>> {
  const items: T[] = [];
  let token: string | undefined;
  let resourceVersion: string | undefined;
  let pages = 0;
  do {
    const page = await client.request<KubeList<T>>({
      path,
      // The first page is smaller when asked: its items reach onPage sooner (the controller writes while the rest comes).
      query: { limit: pages === 0 ? Math.min(pageSize, options.firstPageSize ?? pageSize) : pageSize, continue: token, labelSelector: options.labelSelector || undefined, fieldSelector: options.fieldSelector || undefined },
      ...(options.signal ? { signal: options.signal } : {}),
    });
    pages += 1;
    resourceVersion ??= page.metadata?.resourceVersion ?? '';
    // Items of a typed list carry no kind or apiVersion; watch events' objects do. Give them theirs.
    const kind = page.kind?.replace(/List$/, '');
    const keep = options.transform ?? ((item: T) => item);
    const kept = (page.items ?? []).map((item) => keep({ ...(page.apiVersion ? { apiVersion: page.apiVersion } : {}), ...(kind ? { kind } : {}), ...item }));
    for (const item of kept) items.push(item);
    options.onPage?.(kept);
    token = page.metadata?.continue || undefined;
  } while (token);
  return { items, resourceVersion, pages };
}
