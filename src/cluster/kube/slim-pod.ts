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
    ...(container.command ? { command: container.command } : {}),
    ...(container.args ? { args: container.args } : {}),
    ...(command ? { lifecycle: { postStart: { exec: { command } } } } : {}),
  };
};

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
            ...(status.phase ? { phase: status.phase } : {}),
            ...(status.podIP ? { podIP: status.podIP } : {}),
            ...(status.podIPs ? { podIPs: status.podIPs } : {}),
            ...(status.hostIP ? { hostIP: status.hostIP } : {}),
            ...(status.conditions ? { conditions: status.conditions } : {}),
            ...(status.containerStatuses ? { containerStatuses: status.containerStatuses.map(({ name, ready }) => ({ name, ready })) } : {}),
          },
        }
      : {}),
  } as Pod;
}
