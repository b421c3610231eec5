/**
 * create, update (PUT), patch and delete, with the checks kube-apiserver makes, in its order (k8s.io/apiserver
 * pkg/registry/generic/registry/store.go Create/Update/Delete, pkg/registry/rest create.go/update.go, pkg/endpoints/
 * handlers/patch.go; the strategies of pkg/registry/core/pod and coordination/lease):
 *   create  name or generateName; namespace must exist (404); a taken name is 409 AlreadyExists; uid, creationTimestamp,
 *           resourceVersion set by the server; a pod's status is reset to Pending (podStrategy.PrepareForCreate).
 *   update  metadata.uid in the body is a precondition: a mismatch is 409 Conflict "Precondition failed: UID in
 *           precondition" (defaultUpdatedObjectInfo.Preconditions); a stale metadata.resourceVersion is 409 Conflict;
 *           none at all is 422 for leases (AllowUnconditionalUpdate false) and fine for pods; a PUT of a missing lease
 *           creates it.
 *   patch   the patch is applied to the stored object, then it is an update without the UID precondition: a patch that
 *           carries another metadata.uid fails validation instead, 422 Invalid "field is immutable" (apimachinery
 *           ValidateObjectMetaAccessorUpdate); a patch of a missing object is 404.
 *   status  a write to /status changes only .status; a write to the object leaves .status alone (pod strategies).
 *   no-op   an update that changes nothing writes nothing: same resourceVersion, no watch event (etcd3
 *           GuaranteedUpdate).
 */
import { randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import { NAMESPACES, PODS, apiVersionOf, qosClassOf, type KubeObject, type ResourceType } from './resources.ts';
import type { KubeStore } from './store.ts';
import { alreadyExists, badRequest, conflict, invalid, KubeError, failure, notFound, OPTIMISTIC_LOCK } from './status.ts';
import { PatchError, jsonPatch, mergePatch, strategicMergePatch } from './patch.ts';

export interface Target {
  type: ResourceType;
  namespace: string | undefined;
  name: string;
  subresource: string | undefined;
}

/** An RFC 3339 time in whole seconds, as metav1.Time serializes; `later` seconds from now. */
export const now = (later = 0) => new Date(Date.now() + later * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');
const RANDOM = 'bcdfghjklmnpqrstvwxz2456789';
const suffix = () => Array.from({ length: 5 }, () => RANDOM.charAt(Math.floor(Math.random() * RANDOM.length))).join('');

export function parseBody(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw badRequest(`the body of the request could not be decoded as JSON: ${(error as Error).message}`);
  }
}

function asObject(type: ResourceType, body: unknown): KubeObject {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw badRequest(`the body of the request must be a ${type.kind} object`);
  const object = body as KubeObject;
  if (object.kind !== undefined && object.kind !== type.kind) throw badRequest(`the kind in the body (${String(object.kind)}) does not match the kind of the resource (${type.kind})`);
  if (object.apiVersion !== undefined && object.apiVersion !== apiVersionOf(type)) throw badRequest(`the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${apiVersionOf(type)})`);
  return { ...object, apiVersion: apiVersionOf(type), kind: type.kind, metadata: { ...(object.metadata ?? {}) } };
}

/** A managedFields entry as the server records it for a write by `manager` (fields themselves not tracked). */
export const managedEntry = (type: ResourceType, manager: string, subresource?: string) => ({ manager, operation: 'Update', apiVersion: apiVersionOf(type), time: now(), fieldsType: 'FieldsV1', fieldsV1: {}, ...(subresource ? { subresource } : {}) });

export class Writer {
  private readonly store: KubeStore;
  /** Pods carry metadata.generation from kube-apiserver 1.33 on (kubernetes PR #130181, KEP-5067). */
  private readonly podGeneration: boolean;

  constructor(store: KubeStore, podGeneration: boolean) {
    this.store = store;
    this.podGeneration = podGeneration;
  }

  create(type: ResourceType, namespace: string | undefined, body: unknown, manager: string): KubeObject {
    const object = asObject(type, body);
    const meta = object.metadata;
    if (type.namespaced && meta.namespace !== undefined && meta.namespace !== namespace) throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    const name = meta.name || (meta.generateName ? `${meta.generateName}${suffix()}` : '');
    if (!name) throw invalid(type, '', 'metadata.name', '', 'name or generateName is required', 'FieldValueRequired');
    if (type.namespaced && !this.store.get(NAMESPACES, undefined, namespace ?? '')) throw notFound(NAMESPACES, namespace ?? '');
    if (this.store.get(type, namespace, name)) throw alreadyExists(type, name);
    const { resourceVersion: _rv, deletionTimestamp: _dt, deletionGracePeriodSeconds: _dg, ...kept } = meta;
    object.metadata = { ...kept, name, ...(type.namespaced ? { namespace } : {}), uid: randomUUID(), creationTimestamp: now() };
    object.metadata.managedFields = [managedEntry(type, manager)];
    if (type === PODS) {
      if (this.podGeneration) object.metadata.generation = 1;
      object.status = { phase: 'Pending', qosClass: qosClassOf(object) };
    }
    if (type === NAMESPACES) object.status = { phase: 'Active' };
    return this.store.put(type, object);
  }

  /** PUT: the created or updated object and whether it was created. */
  update(target: Target, body: unknown, manager: string): { object: KubeObject; created: boolean } {
    const candidate = asObject(target.type, body);
    if (candidate.metadata.name !== target.name) throw badRequest(`the name of the object (${candidate.metadata.name ?? ''}) does not match the name on the URL (${target.name})`);
    const existing = this.store.get(target.type, target.namespace, target.name);
    if (!existing) {
      if (!target.type.createOnUpdate || target.subresource) throw notFound(target.type, target.name);
      return { object: this.create(target.type, target.namespace, candidate, manager), created: true };
    }
    const uid = candidate.metadata.uid;
    if (uid && uid !== existing.metadata.uid) {
      const key = `/registry/${target.type.resource}/${target.namespace ? `${target.namespace}/` : ''}${target.name}`;
      throw conflict(target.type, target.name, `StorageError: invalid object, Code: 4, Key: ${key}, ResourceVersion: 0, AdditionalErrorMsg: Precondition failed: UID in precondition: ${uid}, UID in object meta: ${existing.metadata.uid ?? ''}`);
    }
    return { object: this.commit(target, existing, candidate, manager), created: false };
  }

  patch(target: Target, contentType: string, text: string, manager: string): KubeObject {
    const existing = this.store.get(target.type, target.namespace, target.name);
    if (!existing) throw notFound(target.type, target.name);
    const patch = parseBody(text);
    let patched: unknown;
    try {
      if (contentType === 'application/json-patch+json') patched = jsonPatch(existing, patch);
      else if (contentType === 'application/merge-patch+json') patched = mergePatch(existing, patch);
      else patched = strategicMergePatch(existing, patch);
    } catch (error) {
      if (!(error instanceof PatchError)) throw error;
      throw new KubeError(failure(422, 'Invalid', 'the server rejected our request due to an error in our request', { causes: [{ reason: '', message: error.message }] }));
    }
    const candidate = asObject(target.type, patched);
    if (candidate.metadata.name !== target.name) throw badRequest(`the name of the object (${candidate.metadata.name ?? ''}) does not match the name on the URL (${target.name})`);
    if (candidate.metadata.uid !== existing.metadata.uid) throw invalid(target.type, target.name, 'metadata.uid', candidate.metadata.uid ?? '', 'field is immutable');
    return this.commit(target, existing, candidate, manager);
  }

  /** The common end of update and patch: optimistic concurrency, what the (status) strategy keeps, the write. */
  private commit(target: Target, existing: KubeObject, candidate: KubeObject, manager: string): KubeObject {
    const { type } = target;
    const version = candidate.metadata.resourceVersion;
    if (!version && !type.unconditionalUpdate) throw invalid({ group: type.group, kind: type.resource }, target.name, 'metadata.resourceVersion', 0, 'must be specified for an update');
    if (version && version !== existing.metadata.resourceVersion) throw conflict(type, target.name, OPTIMISTIC_LOCK);
    let next: KubeObject;
    if (target.subresource === 'status') next = { ...existing, status: candidate.status };
    else next = type.subresources.includes('status') ? { ...candidate, status: existing.status } : candidate;
    if (target.subresource !== 'status') {
      const { managedFields: sentFields } = next.metadata;
      next.metadata = {
        ...next.metadata,
        name: existing.metadata.name,
        namespace: existing.metadata.namespace,
        uid: existing.metadata.uid,
        creationTimestamp: existing.metadata.creationTimestamp,
        generation: existing.metadata.generation,
        deletionTimestamp: existing.metadata.deletionTimestamp,
        deletionGracePeriodSeconds: existing.metadata.deletionGracePeriodSeconds,
        managedFields: sentFields ?? existing.metadata.managedFields,
      };
      for (const key of Object.keys(next.metadata)) if (next.metadata[key] === undefined) delete next.metadata[key];
    }
    if (type === PODS && target.subresource !== 'status') checkPodSpecUpdate(existing, next);
    if (type === PODS && this.podGeneration && !isDeepStrictEqual(existing.spec, next.spec)) next.metadata.generation = (existing.metadata.generation ?? 0) + 1;
    const strip = (object: KubeObject) => ({ ...object, metadata: { ...object.metadata, resourceVersion: undefined, managedFields: undefined } });
    if (isDeepStrictEqual(strip(existing), strip(next))) return existing;
    const entries = (next.metadata.managedFields ?? []).filter((entry) => entry.manager !== manager || entry.subresource !== target.subresource);
    next.metadata.managedFields = [...entries, managedEntry(type, manager, target.subresource)];
    const stored = this.store.put(type, next);
    return this.removeIfFinished(type, stored) ?? stored;
  }

  /** An object marked for deletion goes once its finalizers are gone (pods: once their grace period is 0). */
  removeIfFinished(type: ResourceType, object: KubeObject): KubeObject | undefined {
    const meta = object.metadata;
    if (!meta.deletionTimestamp || (meta.finalizers ?? []).length > 0) return undefined;
    if (type === PODS && meta.deletionGracePeriodSeconds !== 0) return undefined;
    return this.store.remove(type, meta.namespace, meta.name ?? '');
  }
}

/** ValidatePodUpdate: of a pod's spec only container images, activeDeadlineSeconds, tolerations and the grace period may change. */
function checkPodSpecUpdate(existing: KubeObject, next: KubeObject): void {
  const mutable = (spec: unknown) => {
    const copy = structuredClone((spec ?? {}) as Record<string, unknown>);
    for (const list of ['containers', 'initContainers']) for (const container of (copy[list] ?? []) as Record<string, unknown>[]) delete container.image;
    for (const field of ['activeDeadlineSeconds', 'tolerations', 'terminationGracePeriodSeconds']) delete copy[field];
    return copy;
  };
  if (isDeepStrictEqual(mutable(existing.spec), mutable(next.spec))) return;
  throw invalid(PODS, existing.metadata.name ?? '', 'spec', '', 'pod updates may not change fields other than `spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)', 'FieldValueForbidden');
}
