/**
 * The stand-in's storage, in the role etcd plays for kube-apiserver: one global, monotonically increasing revision
 * (handed to clients as the opaque string metadata.resourceVersion), objects kept in key order (namespace/name, as
 * etcd keys /registry/<resource>/<namespace>/<name> sort), and a bounded history of changes. The history serves watches
 * from a resourceVersion and lists at an exact resourceVersion (continue tokens); a resourceVersion older than it is
 * gone, as after etcd's compaction (about 5 minutes of history by default; docs: api-concepts, "Efficient detection of
 * changes"). Here the bound is a number of changes, and compact() forgets all of it at once.
 */
import type { KubeObject, ResourceType } from './resources.ts';
import { expired } from './status.ts';

export type ChangeType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface Change {
  type: ChangeType;
  resourceVersion: number;
  resource: ResourceType;
  key: string;
  /** The object after the change; for DELETED, its last state carrying the deletion's resourceVersion. */
  object: KubeObject;
  /** The object before the change (undefined for ADDED). */
  previous: KubeObject | undefined;
}

export const keyOf = (namespace: string | undefined, name: string) => (namespace ? `${namespace}/${name}` : name);

export class KubeStore {
  private revision: number;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: Change[] = [];
  /** Every change after this revision is still in the history. */
  private floor: number;
  private readonly listeners = new Set<(change: Change) => void>();
  private readonly historyLimit: number;

  constructor(historyLimit = 1000, firstRevision = 1000) {
    this.historyLimit = historyLimit;
    this.revision = firstRevision;
    this.floor = firstRevision;
  }

  get resourceVersion(): number {
    return this.revision;
  }

  /** The oldest resourceVersion a watch may start from. */
  get oldestResourceVersion(): number {
    return this.floor;
  }

  private table(resource: ResourceType): Map<string, KubeObject> {
    let table = this.objects.get(resource.resource);
    if (!table) this.objects.set(resource.resource, (table = new Map<string, KubeObject>()));
    return table;
  }

  get(resource: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const found = this.table(resource).get(keyOf(namespace, name));
    return found && structuredClone(found);
  }

  /** Current objects in key order, of one namespace or all. */
  list(resource: ResourceType, namespace?: string): KubeObject[] {
    return this.select(this.table(resource), namespace).map((object) => structuredClone(object));
  }

  /**
   * Like list(), but the stored objects themselves, not copies: for a reader that copies only what it hands out (a
   * page of a paginated list, 500 of 10,000 pods). It must not change them.
   */
  peek(resource: ResourceType, namespace?: string): readonly KubeObject[] {
    return this.select(this.table(resource), namespace);
  }

  /** The objects as they were at `resourceVersion`, rebuilt from the history; 410 Expired when it is older. */
  listAt(resource: ResourceType, namespace: string | undefined, resourceVersion: number): KubeObject[] {
    return this.peekAt(resource, namespace, resourceVersion).map((object) => structuredClone(object));
  }

  /** listAt() without copies, as peek(). */
  peekAt(resource: ResourceType, namespace: string | undefined, resourceVersion: number): KubeObject[] {
    if (resourceVersion < this.floor) throw expired(`too old resource version: ${resourceVersion} (${this.floor})`);
    const table = new Map(this.table(resource));
    for (let at = this.history.length - 1; at >= 0; at -= 1) {
      const change = this.history[at];
      if (!change || change.resourceVersion <= resourceVersion) break;
      if (change.resource !== resource) continue;
      if (change.previous) table.set(change.key, change.previous);
      else table.delete(change.key);
    }
    return this.select(table, namespace);
  }

  private select(table: Map<string, KubeObject>, namespace: string | undefined): KubeObject[] {
    return [...table.entries()]
      .filter(([, object]) => namespace === undefined || object.metadata.namespace === namespace)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([, object]) => object);
  }

  /** Writes a new or changed object under the next revision; returns the stored copy. */
  put(resource: ResourceType, object: KubeObject): KubeObject {
    const key = keyOf(object.metadata.namespace, object.metadata.name ?? '');
    const table = this.table(resource);
    const previous = table.get(key);
    const stored = structuredClone(object);
    stored.metadata.resourceVersion = String(++this.revision);
    table.set(key, stored);
    this.record({ type: previous ? 'MODIFIED' : 'ADDED', resourceVersion: this.revision, resource, key, object: stored, previous });
    return structuredClone(stored);
  }

  /** Removes an object under the next revision; returns its last state with that revision. */
  remove(resource: ResourceType, namespace: string | undefined, name: string): KubeObject | undefined {
    const key = keyOf(namespace, name);
    const table = this.table(resource);
    const previous = table.get(key);
    if (!previous) return undefined;
    table.delete(key);
    const last = structuredClone(previous);
    last.metadata.resourceVersion = String(++this.revision);
    this.record({ type: 'DELETED', resourceVersion: this.revision, resource, key, object: last, previous });
    return structuredClone(last);
  }

  private record(change: Change): void {
    this.history.push(change);
    while (this.history.length > this.historyLimit) this.floor = this.history.shift()?.resourceVersion ?? this.floor;
    for (const listener of this.listeners) listener(change);
  }

  /** The changes after `resourceVersion`, oldest first; 410 Expired when some of them are no longer kept. */
  changesAfter(resourceVersion: number): Change[] {
    if (resourceVersion < this.floor) throw expired(`too old resource version: ${resourceVersion} (${this.floor})`);
    return this.history.filter((change) => change.resourceVersion > resourceVersion);
  }

  /** Forgets the whole history, as etcd's compaction does: older resourceVersions and continue tokens are gone. */
  compact(): void {
    this.history.length = 0;
    this.floor = this.revision;
  }

  subscribe(listener: (change: Change) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
