/**
 * The message of the queue path: a CloudEvents 1.0 event in structured JSON mode (the whole event is the body,
 * content type `application/cloudevents+json`), built with the `cloudevents` package, which checks the attributes on
 * construction (required ones, `time` a date-time, extension names lowercase alphanumeric). It does not check what we
 * rely on when reading (an unknown specversion passes, an empty id is silently replaced by a random one), so
 * decode-event.ts checks those itself.
 *
 * The package declares engines `node >=20 <=24`: on Node 26 npm only warns (EBADENGINE), and the runtime code it
 * uses here (its precompiled schema validator) runs unchanged. It becomes an install error under npm's engine-strict.
 */
import { createHash } from 'node:crypto';
import { CloudEvent } from 'cloudevents';
import { withoutVersion, type CmdbRecord } from '../pod/record.ts';

export const EVENT_TYPES = {
  registered: 'io.cmdb-hook.container.registered',
  deregistered: 'io.cmdb-hook.container.deregistered',
  inventory: 'io.cmdb-hook.cluster.inventory',
} as const;

export type EventType = (typeof EVENT_TYPES)[keyof typeof EVENT_TYPES];
export type TransitionKind = 'registered' | 'deregistered';

/** The structured-mode content type, for the broker's content-type header or property. */
export const CONTENT_TYPE = 'application/cloudevents+json; charset=utf-8';

export function eventSource(cluster: string): string {
  return `cmdb-hook/${cluster}`;
}

/** One transition of a record, as the publisher derived it from a pod object. */
export interface Transition {
  readonly kind: TransitionKind;
  readonly record: CmdbRecord;
  /**
   * The `metadata.resourceVersion` of the pod object the transition was derived from. Required for `registered`.
   * For `deregistered`, leave it out when the pod is gone for good, and give it when the record ends while its pod
   * lives on (a container no longer selected), see transitionId.
   */
  readonly resourceVersion?: string;
}

/**
 * What the record says about the cluster, without what depends on who observed it and when (`observedAt`, the
 * publisher's `agent`, the consumer's `pod.resourceVersion`): two publishers looking at the same pod object build the same
 * facts.
 */
export function factsDigest(record: CmdbRecord): string {
  const { observedAt: _observedAt, agent: _agent, ...facts } = withoutVersion(record);
  return sha256(canonicalJson(facts)).slice(0, 32);
}

/**
 * The event id of a transition, the same for every publisher that derives it and different for every other transition.
 * The broker drops a second message with an id it has seen within its duplicate window (JetStream's Nats-Msg-Id), so:
 *
 * - A false "same" (two transitions sharing an id) loses the second one: the worst outcome. A record id alone, or the
 *   record id with its facts, is not enough: a record registered with facts A, updated to B, then back to A would
 *   repeat the first id within the window, and the CMDB would stay at B. So `registered` (which covers updates) mixes
 *   in the pod's resourceVersion: every change of the pod object bumps it, so A, B and A again get three ids.
 * - A false "different" (one transition, two ids) only costs a message the consumer recognises as a no-op (the same
 *   facts as what it applied last). That happens when two publishers saw the same facts on different pod versions (a
 *   relist after a status-only change): acceptable, and why the facts digest is part of the id and of nothing else.
 *   Two publishers that saw the same watch event (a leader handover, replicas overlapping) agree exactly.
 * - The facts digest still matters beside the resourceVersion: two publisher versions with different settings (a
 *   changed --field during a rollout) build different records from the same pod version; both must reach the consumer.
 * - `deregistered` is the last transition of a record whose pod is gone: pod UIDs are never reused, so the record id
 *   alone identifies it, and a publisher that saw the deletion and one that only found the pod missing on a relist
 *   agree without sharing a resourceVersion. When a record ends while its pod lives on (it can come back and end
 *   again), the caller passes that pod version and the two ends differ.
 */
export function transitionId(transition: Transition): string {
  const { kind, record, resourceVersion } = transition;
  if (kind === 'registered' && !resourceVersion) throw new TypeError(`a registered transition of ${record.id} needs the pod's resourceVersion`);
  const basis = kind === 'registered' ? [kind, resourceVersion, factsDigest(record)] : [kind, resourceVersion ?? 'gone'];
  return `${record.id}.${kind === 'registered' ? 'r' : 'd'}.${sha256(canonicalJson(basis)).slice(0, 32)}`;
}

/**
 * The event of one transition; `time` is when the record was observed. The `resourceversion` extension carries the
 * pod version it was derived from, when there is one: the versions of one pod are integers that grow with every change
 * (Kubernetes' comparable resource versions, KEP-5504, stable in 1.35), so a consumer that receives one record's
 * transitions out of order can tell the older one.
 */
export function transitionEvent(transition: Transition): CloudEvent<CmdbRecord> {
  const { record, resourceVersion } = transition;
  return new CloudEvent<CmdbRecord>({
    ...(resourceVersion ? { resourceversion: resourceVersion } : {}),
    specversion: '1.0',
    id: transitionId(transition),
    source: eventSource(record.cluster),
    type: EVENT_TYPES[transition.kind],
    subject: record.id,
    time: record.observedAt,
    datacontenttype: 'application/json',
    data: record,
  });
}

/** The structured-mode body of an event. */
export function encodeEvent(event: CloudEvent<unknown>): Uint8Array {
  return Buffer.from(JSON.stringify(event), 'utf8');
}

export function sha256(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** JSON with object keys sorted at every level, so equal values always hash alike whatever order they were built in. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) => {
    if (inner === null || typeof inner !== 'object' || Array.isArray(inner)) return inner;
    const sorted: Record<string, unknown> = {};
    for (const key of Object.keys(inner).sort()) sorted[key] = (inner as Record<string, unknown>)[key];
    return sorted;
  });
}
