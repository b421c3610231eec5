/**
 * A Kubernetes API server stand-in for tests: HTTPS on 127.0.0.1 (port 0), certificate made by openssl, bearer tokens,
 * serving pods (and pods/status), core v1 events, namespaces and coordination.k8s.io/v1 leases. Real kubectl works
 * against it (test/stand-ins/kube-api-kubectl.test.ts). Sources: kubernetes/website content/en/docs/reference/using-api/
 * api-concepts.md (efficient detection of changes, watch bookmarks, large results in chunks, resource versions,
 * 410 Gone), the API conventions (kubernetes/community contributors/devel/sig-architecture/api-conventions.md:
 * Status kind, concurrency control via resourceVersion, metadata), and kube-apiserver's code where the docs are silent;
 * each file cites its own.
 *
 * Honoured:
 *   - discovery (/api, /api/v1, /apis, /apis/coordination.k8s.io[/v1], /version) in the legacy form — discovery.ts;
 *   - one global revision for every write, as opaque metadata.resourceVersion on objects and lists; uid (random UUID),
 *     creationTimestamp, generation (pods: 1, bumped on spec change, as 1.33+) — store.ts, writes.ts;
 *   - get, list (one namespace or all), create, update, patch (json, merge, strategic merge), delete (graceful for
 *     pods), the status subresource, no-op writes that write nothing — writes.ts, deletion.ts, patch.ts;
 *   - labelSelector (=, ==, !=, in, notin, exists, !key) and fieldSelector (=, ==, !=; 400 for a field the type does not
 *     offer) on lists and watches — selectors.ts;
 *   - limit/continue with one resourceVersion for all pages, 410 Expired for an expired token — list.ts;
 *   - watch from now or from a resourceVersion (replayed from a bounded history, 410 when older, in-stream or HTTP),
 *     bookmarks, sendInitialEvents, timeoutSeconds, selector transitions as ADDED/DELETED — watch.ts;
 *   - optimistic concurrency: 409 AlreadyExists on create, 409 Conflict on a stale resourceVersion, 422 for a lease
 *     update without one; UID preconditions (PUT: 409; PATCH carrying another uid: 422 field is immutable) —
 *     writes.ts;
 *   - 401 for a missing or unknown token, 403 for a forbidden namespace, Status objects for every error — server.ts,
 *     routes.ts, status.ts; a request log and injected faults (500, 429 with Retry-After, any code) for N requests.
 *
 * Not modelled: protobuf, Table output (kubectl prints plain lists with NAME and AGE), server-side apply (415),
 * openapi (404), deletecollection and namespace deletion, the watch cache's own quirks (a list with
 * resourceVersion=0 ignoring limit), RBAC beyond forbidden namespaces, admission, field-level validation beyond the
 * pod spec's immutability, full managedFields tracking (one entry per manager, no field sets), Event TTL and series,
 * events.k8s.io/v1, status.podIPs as a field selector, metadata changes through /status, a time-bound history (it is
 * bounded by a number of changes; compact() forgets it all).
 */
import { makeCertificates, type Certificates } from '../certificates.ts';
import { finishDeletion, deleteObject } from './deletion.ts';
import { writeKubeconfig } from './kubeconfig.ts';
import { Lister } from './list.ts';
import { makePod, type PodOptions } from './pods.ts';
import { EVENTS, LEASES, NAMESPACES, PODS, type KubeObject } from './resources.ts';
import { createRouter } from './routes.ts';
import { startHttps, type Fault, type LoggedRequest } from './server.ts';
import { KubeStore } from './store.ts';
import { WatchHub, type WatchSettings } from './watch.ts';
import { Writer } from './writes.ts';

export const DEFAULT_TOKEN = 'stand-in-token-0123456789abcdef';
export const DEFAULT_USER = 'system:serviceaccount:cmdb-hook:cmdb-hook-controller';

export interface KubeApiOptions {
  /** Bearer token -> user name. Default: DEFAULT_TOKEN for DEFAULT_USER. */
  tokens?: Record<string, string>;
  forbiddenNamespaces?: string[];
  /** Namespaces that exist from the start (default, kube-system). */
  namespaces?: string[];
  /** How many changes the history keeps (default 1000). */
  historyLimit?: number;
  /** After a graceful pod delete, the kubelet's final delete comes this much later; null: only finishDeletion(). Default 50. */
  terminationDelayMs?: number | null;
  /** Send a BOOKMARK to watches that allow them this often (default: only when bookmark() is called). */
  bookmarkIntervalMs?: number;
  goneAs?: WatchSettings['goneAs'];
  /** The minor version /version reports (default 33, so 1.33); pods carry metadata.generation from 33 on. */
  minorVersion?: number;
  /** Reuse certificates across stand-ins (making them costs openssl runs). */
  certificates?: Certificates;
}

export interface KubeApi {
  url: string;
  token: string;
  /** The CA that signed the server certificate, PEM. */
  ca: string;
  certificates: Certificates;
  requests: LoggedRequest[];
  store: KubeStore;
  /** Writes `<dir>/kubeconfig` for this server; another token may be given (e.g. a wrong one). */
  writeKubeconfig(dir: string, options?: { token?: string; namespace?: string }): string;
  addNamespace(name: string): void;
  /** Stores a pod as the scheduler and kubelet would have left it (no create strategy); options make a realistic one. */
  addPod(pod: KubeObject | PodOptions): KubeObject;
  /** Changes a stored pod in place (as the kubelet or a controller would) and writes it if anything changed. */
  modifyPod(namespace: string, name: string, change: (pod: KubeObject) => void): KubeObject;
  /** A DELETE as a client sends it (grace as gracePeriodSeconds). */
  deletePod(namespace: string, name: string, grace?: number): KubeObject;
  /** The kubelet's final delete of a terminating pod. */
  finishDeletion(namespace: string, name: string): KubeObject | undefined;
  pod(namespace: string, name: string): KubeObject | undefined;
  pods(namespace?: string): KubeObject[];
  events(namespace?: string): KubeObject[];
  lease(namespace: string, name: string): KubeObject | undefined;
  injectFault(fault: Fault, times?: number): void;
  /** Watch hooks: see watch.ts. */
  watches: Pick<WatchHub, 'bookmark' | 'drop' | 'error' | 'stall' | 'settings' | 'open'>;
  /** Forgets the history: watches from older resourceVersions and continue tokens get 410. */
  compact(): void;
  expireContinueTokens(): void;
  close(): Promise<void>;
}

export async function startKubeApi(options: KubeApiOptions = {}): Promise<KubeApi> {
  const certificates = options.certificates ?? makeCertificates();
  const tokens = options.tokens ?? { [DEFAULT_TOKEN]: DEFAULT_USER };
  const store = new KubeStore(options.historyLimit);
  const lister = new Lister(store);
  const minorVersion = options.minorVersion ?? 33;
  const writer = new Writer(store, minorVersion >= 33);
  const watches = new WatchHub(store);
  watches.settings.goneAs = options.goneAs ?? 'event';
  const timers = new Set<NodeJS.Timeout>();
  const later = (ms: number, run: () => void) => {
    const timer = setTimeout(() => {
      timers.delete(timer);
      run();
    }, ms);
    timers.add(timer);
  };
  const terminationDelay = options.terminationDelayMs === undefined ? 50 : options.terminationDelayMs;
  const onTerminating = (namespace: string, name: string) => {
    if (terminationDelay !== null) later(terminationDelay, () => finishDeletion(store, writer, namespace, name));
  };
  let url = '';
  const router = createRouter({ store, lister, writer, watches, forbiddenNamespaces: new Set(options.forbiddenNamespaces), serverAddress: () => url.replace('https://', ''), minorVersion, onTerminating });
  const https = await startHttps({ key: certificates.serverKey, cert: certificates.serverCert }, tokens, router);
  url = https.url;
  const bookmarks = options.bookmarkIntervalMs ? setInterval(() => watches.bookmark(), options.bookmarkIntervalMs) : undefined;

  const addNamespace = (name: string) => {
    if (!store.get(NAMESPACES, undefined, name)) writer.create(NAMESPACES, undefined, { metadata: { name } }, 'stand-in');
  };
  for (const name of options.namespaces ?? ['default', 'kube-system']) addNamespace(name);
  const existing = (namespace: string, name: string) => {
    const pod = store.get(PODS, namespace, name);
    if (!pod) throw new Error(`no pod ${namespace}/${name} in the stand-in`);
    return pod;
  };

  return {
    url,
    token: Object.keys(tokens)[0] ?? '',
    ca: certificates.ca,
    certificates,
    requests: https.requests,
    store,
    writeKubeconfig: (dir, kubeconfig = {}) => writeKubeconfig(dir, { server: url, ca: certificates.ca, token: kubeconfig.token ?? Object.keys(tokens)[0] ?? '', namespace: kubeconfig.namespace }),
    addNamespace,
    addPod: (pod) => {
      const object = 'metadata' in pod ? structuredClone(pod) : makePod(pod);
      const namespace = object.metadata.namespace ?? 'default';
      if (store.get(PODS, namespace, object.metadata.name ?? '')) throw new Error(`pod ${namespace}/${object.metadata.name ?? ''} already exists in the stand-in`);
      addNamespace(namespace);
      if (minorVersion < 33) {
        delete object.metadata.generation;
        delete (object.status as Record<string, unknown> | undefined)?.observedGeneration;
      }
      return store.put(PODS, { ...object, metadata: { ...object.metadata, namespace } });
    },
    modifyPod: (namespace, name, change) => {
      const before = existing(namespace, name);
      const after = structuredClone(before);
      change(after);
      return JSON.stringify(after) === JSON.stringify(before) ? before : store.put(PODS, after);
    },
    deletePod: (namespace, name, grace) => {
      existing(namespace, name);
      const query = new URLSearchParams(grace === undefined ? {} : { gracePeriodSeconds: String(grace) });
      const result = deleteObject(store, writer, { type: PODS, namespace, name, subresource: undefined }, query, '');
      if (result.pending && result.object.metadata.deletionGracePeriodSeconds) onTerminating(namespace, name);
      return result.object;
    },
    finishDeletion: (namespace, name) => finishDeletion(store, writer, namespace, name),
    pod: (namespace, name) => store.get(PODS, namespace, name),
    pods: (namespace) => store.list(PODS, namespace),
    events: (namespace) => store.list(EVENTS, namespace),
    lease: (namespace, name) => store.get(LEASES, namespace, name),
    injectFault: (fault, times) => https.injectFault(fault, times),
    watches,
    compact: () => store.compact(),
    expireContinueTokens: () => lister.expireContinueTokens(),
    close: async () => {
      clearInterval(bookmarks);
      for (const timer of timers) clearTimeout(timer);
      watches.drop('cut');
      await https.close();
    },
  };
}
