/**
 * What the controller keeps of a pod: only the fields it reads (identity, labels and annotations for the record,
 * containers for the selection and the hook check, status for readiness, the readiness gate's conditions). A real
 * pod is 5 to 10 KB of JSON, half of it managedFields, env and volumes; kept whole, 10,000 pods cost the controller
 * over 400 MiB (npm run bench), far over its budget. controller-runtime strips managedFields the same way
 * (cache.TransformStripManagedFields); this keeps less still. The fields taken are listed here, so a new reader of a
 * pod field must add it.
 */
import type { Pod } from './pod-cache.ts';

type Container = NonNullable<Pod['spec']>['containers'][number];

const slimContainer = (container: Container): Container => {
  const command = container.lifecycle?.postStart?.exec?.command;
  return {
    name: container.name,
    ...(container.restartPolicy ? { restartPolicy: container.restartPolicy } : {}),
    // A native sidecar's image tells whether it is cmdb-hook's (registers-itself.ts); app containers' are not read.
    ...(container.restartPolicy === 'Always' && container.image ? { image: container.image } : {}),
    ...(container.command ? { command: container.command } : {}),
    ...(container.args ? { args: container.args } : {}),
    ...(command ? { lifecycle: { postStart: { exec: { command } } } } : {}),
  };
};

type Condition = NonNullable<NonNullable<Pod['status']>['conditions']>[number];

/**
 * The conditions read: ContainersReady (when the app turned ready: the hook grace, the gate's fail-open clock) and
 * those the spec's readinessGates name (the gate's own, and its transition time kept when written again). A pod's
 * other four (PodScheduled, Initialized, Ready, PodReadyToStartContainers) were ~6 MiB of 10,000 pods (heap snapshot).
 */
function readConditions(status: NonNullable<Pod['status']>, spec: Pod['spec']): Condition[] | undefined {
  const gates = spec?.readinessGates?.map((gate) => gate.conditionType) ?? [];
  return status.conditions
    ?.filter((condition) => condition.type === 'ContainersReady' || gates.includes(condition.type))
    .map((condition) => ({ ...condition, type: same(condition.type), status: same(condition.status) }));
}

/**
 * JSON.parse makes a new string of every value, so 10,000 pods hold 10,000 copies of "Running", "True" and the
 * condition types: the common ones are swapped for one shared copy.
 */
const COMMON = new Map(['Running', 'Pending', 'Succeeded', 'Failed', 'Unknown', 'True', 'False', 'ContainersReady'].map((text) => [text, text]));
const same = <T extends string | undefined>(text: T): T => (text === undefined ? text : ((COMMON.get(text) as T | undefined) ?? text));

export function slimPod(pod: Pod): Pod {
  const { metadata = {}, spec, status } = pod;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: metadata.name,
      namespace: metadata.namespace,
      uid: metadata.uid,
      resourceVersion: metadata.resourceVersion,
      ...(metadata.labels ? { labels: metadata.labels } : {}),
      ...(metadata.annotations ? { annotations: metadata.annotations } : {}),
      ...(metadata.deletionTimestamp ? { deletionTimestamp: metadata.deletionTimestamp } : {}),
    },
    ...(spec
      ? {
          spec: {
            ...(spec.nodeName ? { nodeName: spec.nodeName } : {}),
            containers: spec.containers.map(slimContainer),
            ...(spec.initContainers ? { initContainers: spec.initContainers.map(slimContainer) } : {}),
            ...(spec.readinessGates ? { readinessGates: spec.readinessGates } : {}),
          },
        }
      : {}),
    ...(status
      ? {
          status: {
            ...(status.phase ? { phase: same(status.phase) } : {}),
            ...(status.podIP ? { podIP: status.podIP } : {}),
            // The first of podIPs is podIP again, as another string of the same text: one copy is kept.
            ...(status.podIPs ? { podIPs: status.podIPs.map(({ ip }) => ({ ip: ip === status.podIP ? status.podIP : ip })) } : {}),
            ...(status.hostIP ? { hostIP: status.hostIP } : {}),
            ...(status.conditions ? { conditions: readConditions(status, spec) } : {}),
            ...(status.containerStatuses ? { containerStatuses: status.containerStatuses.map(({ name, ready }) => ({ name, ready })) } : {}),
          },
        }
      : {}),
  } as Pod;
}
