/**
 * The resource types the stand-in serves and the per-type rules kube-apiserver applies to them (the registry
 * strategies of kubernetes pkg/registry/<group>/<resource>/strategy.go, cited per field).
 */
import type { Named } from './status.ts';

/** A stored object, as plain JSON. */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  [field: string]: unknown;
}

export interface ObjectMeta {
  name?: string;
  generateName?: string;
  namespace?: string;
  uid?: string;
  resourceVersion?: string;
  generation?: number;
  creationTimestamp?: string;
  deletionTimestamp?: string;
  deletionGracePeriodSeconds?: number;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  ownerReferences?: Record<string, unknown>[];
  finalizers?: string[];
  managedFields?: Record<string, unknown>[];
  [field: string]: unknown;
}

export interface ResourceType extends Named {
  version: string;
  kind: string;
  singularName: string;
  namespaced: boolean;
  shortNames: string[];
  verbs: string[];
  /** Subresources served, e.g. status. */
  subresources: string[];
  /** The fields a fieldSelector may name, with their values for one object (besides metadata.name/namespace). */
  fields: (object: KubeObject) => Record<string, string>;
  /** An update without metadata.resourceVersion is allowed (AllowUnconditionalUpdate). */
  unconditionalUpdate: boolean;
  /** A PUT of a missing object creates it (AllowCreateOnUpdate). */
  createOnUpdate: boolean;
  /** DELETE answers with the object (pods' ReturnDeletedObject) rather than a Status of Success. */
  returnsDeletedObject: boolean;
}

const text = (value: unknown): string => (typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value));
const part = (object: KubeObject, key: string): Record<string, unknown> => (object[key] ?? {}) as Record<string, unknown>;

export const PODS: ResourceType = {
  resource: 'pods',
  group: '',
  version: 'v1',
  kind: 'Pod',
  singularName: 'pod',
  namespaced: true,
  shortNames: ['po'],
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: ['status'],
  // PodToSelectableFields (pkg/registry/core/pod/strategy.go) and the v1 Pod field-label conversion (pkg/apis/core/v1/
  // conversion.go), which also maps the old `spec.host` to spec.nodeName. status.podIPs is not offered here.
  fields: (pod) => {
    const spec = part(pod, 'spec');
    const status = part(pod, 'status');
    return {
      'spec.nodeName': text(spec.nodeName),
      'spec.host': text(spec.nodeName),
      'spec.restartPolicy': text(spec.restartPolicy),
      'spec.schedulerName': text(spec.schedulerName),
      'spec.serviceAccountName': text(spec.serviceAccountName),
      'spec.hostNetwork': spec.hostNetwork === true ? 'true' : 'false',
      'status.phase': text(status.phase),
      'status.podIP': text(status.podIP),
      'status.nominatedNodeName': text(status.nominatedNodeName),
    };
  },
  unconditionalUpdate: true,
  createOnUpdate: false,
  returnsDeletedObject: true,
};

export const EVENTS: ResourceType = {
  resource: 'events',
  group: '',
  version: 'v1',
  kind: 'Event',
  singularName: 'event',
  namespaced: true,
  shortNames: ['ev'],
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: [],
  // EventToSelectableFields (pkg/registry/core/event/strategy.go).
  fields: (event) => {
    const involved = part(event, 'involvedObject');
    const source = part(event, 'source');
    return {
      'involvedObject.kind': text(involved.kind),
      'involvedObject.namespace': text(involved.namespace),
      'involvedObject.name': text(involved.name),
      'involvedObject.uid': text(involved.uid),
      'involvedObject.apiVersion': text(involved.apiVersion),
      'involvedObject.resourceVersion': text(involved.resourceVersion),
      'involvedObject.fieldPath': text(involved.fieldPath),
      reason: text(event.reason),
      reportingComponent: text(event.reportingComponent),
      source: text(source.component),
      type: text(event.type),
    };
  },
  unconditionalUpdate: true,
  createOnUpdate: true,
  returnsDeletedObject: false,
};

export const LEASES: ResourceType = {
  resource: 'leases',
  group: 'coordination.k8s.io',
  version: 'v1',
  kind: 'Lease',
  singularName: 'lease',
  namespaced: true,
  shortNames: [],
  verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
  subresources: [],
  fields: () => ({}),
  // leaseStrategy (pkg/registry/coordination/lease/strategy.go): AllowUnconditionalUpdate false, AllowCreateOnUpdate true.
  unconditionalUpdate: false,
  createOnUpdate: true,
  returnsDeletedObject: false,
};

export const NAMESPACES: ResourceType = {
  resource: 'namespaces',
  group: '',
  version: 'v1',
  kind: 'Namespace',
  singularName: 'namespace',
  namespaced: false,
  shortNames: ['ns'],
  verbs: ['create', 'get', 'list', 'watch'],
  subresources: ['status'],
  fields: (namespace) => ({ 'status.phase': text(part(namespace, 'status').phase) }),
  unconditionalUpdate: true,
  createOnUpdate: false,
  returnsDeletedObject: false,
};

export const RESOURCES: ResourceType[] = [PODS, EVENTS, NAMESPACES, LEASES];

export const apiVersionOf = (type: ResourceType) => (type.group ? `${type.group}/${type.version}` : type.version);

/** The selectable fields of one object: metadata.name, metadata.namespace (for namespaced types) and the type's own. */
export function selectableFields(type: ResourceType, object: KubeObject): Record<string, string> {
  return { 'metadata.name': object.metadata.name ?? '', ...(type.namespaced ? { 'metadata.namespace': object.metadata.namespace ?? '' } : {}), ...type.fields(object) };
}

export function supportedFields(type: ResourceType): Set<string> {
  return new Set(Object.keys(selectableFields(type, { metadata: {} })));
}

/** The QoS class kube-apiserver computes at create (pkg/apis/core/helper/qos GetPodQOS), for cpu and memory. */
export function qosClassOf(pod: KubeObject): string {
  const containers = [...((part(pod, 'spec').containers ?? []) as Record<string, unknown>[]), ...((part(pod, 'spec').initContainers ?? []) as Record<string, unknown>[])];
  let any = false;
  let guaranteed = containers.length > 0;
  for (const container of containers) {
    const resources = (container.resources ?? {}) as { requests?: Record<string, string>; limits?: Record<string, string> };
    for (const name of ['cpu', 'memory']) {
      const request = resources.requests?.[name];
      const limit = resources.limits?.[name];
      if (request !== undefined || limit !== undefined) any = true;
      if (limit === undefined || (request !== undefined && request !== limit)) guaranteed = false;
    }
  }
  return !any ? 'BestEffort' : guaranteed ? 'Guaranteed' : 'Burstable';
}
