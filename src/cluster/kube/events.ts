/**
 * Kubernetes Events on pods, so `kubectl describe pod` shows what the controller did (core/v1 Event: what kubectl
 * describe lists, by involvedObject name, namespace, kind and uid; k8s.io/kubectl pkg/describe). Written as client-go's
 * recorder writes them: name `<pod>.<hex nanoseconds>`, in the pod's namespace, involvedObject with the pod's uid,
 * source.component, firstTimestamp = lastTimestamp (whole seconds), count 1, reportingComponent/Instance. eventTime
 * is left unset: setting it would make the server require the events.k8s.io fields (action, reportingController).
 *
 * record() never blocks and never throws: the event is queued and sent in the background, one at a time; a pod over
 * its rate (spam-filter.ts), a full queue, or a send that fails for good drops the event and tells onDrop. A
 * transient failure is tried again a few times. An event is a courtesy; the controller's work never waits for one.
 */
import type { KubeClient } from './api-client.ts';
import { createBackoff, sleep } from './backoff.ts';
import { KubeApiError } from './kube-api-error.ts';
import { identityFromEnv } from './identity.ts';
import { createSpamFilter, type SpamFilterOptions } from './spam-filter.ts';

export const EVENT_COMPONENT = 'cmdb-hook-controller';

/** What an event needs of the pod. */
export interface PodRef {
  metadata?: { namespace?: string; name?: string; uid?: string; resourceVersion?: string };
}

export interface CoreEvent {
  apiVersion: 'v1';
  kind: 'Event';
  metadata: { name: string; namespace: string };
  involvedObject: { kind: 'Pod'; apiVersion: 'v1'; namespace: string; name: string; uid: string; resourceVersion?: string };
  reason: string;
  message: string;
  type: 'Normal' | 'Warning';
  source: { component: string };
  firstTimestamp: string;
  lastTimestamp: string;
  count: number;
  reportingComponent: string;
  reportingInstance: string;
}

export interface EventRecorderOptions extends SpamFilterOptions {
  client: KubeClient;
  /** source.component and reportingComponent (default cmdb-hook-controller). */
  component?: string;
  /** reportingInstance (default: POD_NAME, else the host name). */
  instance?: string;
  /** Events waiting to be sent, at most (default 1000). */
  maxQueued?: number;
  /** Tries per event for transient failures (default 3), the first wait between them (default 1 s, doubling). */
  attempts?: number;
  retryDelayMs?: number;
  /** An event was not sent: rate-limited, queue-full, or failed (with the error). */
  onDrop?(why: 'rate-limited' | 'queue-full' | 'failed', event: CoreEvent, error?: unknown): void;
}

export interface EventRecorder {
  record(pod: PodRef, type: 'Normal' | 'Warning', reason: string, message: string): void;
  /** Resolves once every event queued so far is sent or dropped, or when the signal aborts (the rest is dropped). */
  flush(signal?: AbortSignal): Promise<void>;
}

let sequence = 0n;
/** client-go names an event `<object>.<UnixNano in hex>`; a counter keeps two in one millisecond apart. */
const eventName = (object: string) => `${object}.${(BigInt(Date.now()) * 1_000_000n + (sequence++ % 1_000_000n)).toString(16)}`;
const seconds = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export function createEventRecorder(options: EventRecorderOptions): EventRecorder {
  const component = options.component ?? EVENT_COMPONENT;
  const instance = options.instance ?? identityFromEnv();
  const filter = createSpamFilter(options);
  const queue: CoreEvent[] = [];
  let sending: Promise<void> | undefined;
  let stop = new AbortController();
  const drop = (why: 'rate-limited' | 'queue-full' | 'failed', event: CoreEvent, error?: unknown) => {
    try {
      options.onDrop?.(why, event, error);
    } catch {
      // a reporter that throws must not reach the caller
    }
  };

  async function send(event: CoreEvent): Promise<void> {
    const backoff = createBackoff({ initialMs: options.retryDelayMs ?? 1000, maxMs: 30_000 });
    for (let attempt = 1; ; attempt++) {
      try {
        await options.client.request({ method: 'POST', path: `/api/v1/namespaces/${encodeURIComponent(event.metadata.namespace)}/events`, body: event, signal: stop.signal });
        return;
      } catch (error) {
        const again = error instanceof KubeApiError && error.transient && attempt < (options.attempts ?? 3) && !stop.signal.aborted;
        if (!again) return drop('failed', event, error);
        await sleep(backoff.next(error.retryAfterMs), stop.signal);
      }
    }
  }

  async function drain(): Promise<void> {
    for (let event = queue.shift(); event; event = queue.shift()) await send(event);
    sending = undefined;
  }

  return {
    record(pod, type, reason, message) {
      const meta = pod.metadata ?? {};
      const now = seconds(new Date());
      const event: CoreEvent = {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: eventName(meta.name ?? 'pod'), namespace: meta.namespace ?? 'default' },
        involvedObject: { kind: 'Pod', apiVersion: 'v1', namespace: meta.namespace ?? 'default', name: meta.name ?? '', uid: meta.uid ?? '', ...(meta.resourceVersion ? { resourceVersion: meta.resourceVersion } : {}) },
        reason,
        message,
        type,
        source: { component },
        firstTimestamp: now,
        lastTimestamp: now,
        count: 1,
        reportingComponent: component,
        reportingInstance: instance,
      };
      const { namespace, name, uid } = event.involvedObject;
      if (!filter.allow(`${namespace}/${name}/${uid}`)) return drop('rate-limited', event);
      if (queue.length >= (options.maxQueued ?? 1000)) return drop('queue-full', event);
      queue.push(event);
      sending ??= drain();
    },
    async flush(signal) {
      const aborted = () => {
        stop.abort();
        for (let event = queue.shift(); event; event = queue.shift()) drop('failed', event, signal?.reason);
      };
      if (signal?.aborted) aborted();
      signal?.addEventListener('abort', aborted, { once: true });
      try {
        while (sending && !signal?.aborted) await sending;
      } finally {
        signal?.removeEventListener('abort', aborted);
        if (stop.signal.aborted) stop = new AbortController();
      }
    },
  };
}
