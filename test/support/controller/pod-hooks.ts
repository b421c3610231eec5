/**
 * What the kubelet does for a stand-in pod that the controller scenes need: exec the built binary as the pod's
 * postStart or preStop hook (argv as in the manifest, the Downward API env from fieldRefs, the podinfo files in the
 * kubelet's format with its own config.* annotations), and turn the pod's containers ready in the API.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubeApi } from '../kube-api/kube-api-stand-in.ts';
import type { KubeObject } from '../kube-api/resources.ts';
import { formatGoQuotedMap } from '../kubelet/go-format.ts';
import { runHook, type HookRun } from '../run-hook.ts';
import { CLUSTER } from './controller-run.ts';

interface PodParts {
  spec: { nodeName?: string; containers: { name: string }[] };
  status: { podIP?: string; podIPs?: { ip: string }[]; hostIP?: string; conditions?: Record<string, unknown>[]; containerStatuses?: Record<string, unknown>[] };
}

const partsOf = (pod: KubeObject) => pod as unknown as PodParts;

/** The hook's command line as a manifest writes it: `cmdb-hook register --cluster scene --container <name>`. */
export const HOOK_ARGS = (command: 'register' | 'deregister', container: string) => [command, '--cluster', CLUSTER, '--container', container];

/** Runs `register` or `deregister` inside the pod, once per container, as the kubelet runs an exec hook. */
export async function runPodHook(pod: KubeObject, command: 'register' | 'deregister', cmdbUrl: string): Promise<HookRun[]> {
  const { spec, status } = partsOf(pod);
  const podinfo = mkdtempSync(join(tmpdir(), 'cmdb-hook-podinfo-'));
  try {
    writeFileSync(join(podinfo, 'labels'), formatGoQuotedMap(pod.metadata.labels ?? {}));
    const kubelet = { 'kubernetes.io/config.seen': new Date().toISOString(), 'kubernetes.io/config.source': 'api' };
    writeFileSync(join(podinfo, 'annotations'), formatGoQuotedMap({ ...pod.metadata.annotations, ...kubelet }));
    const env = {
      POD_NAME: pod.metadata.name,
      POD_UID: pod.metadata.uid,
      POD_NAMESPACE: pod.metadata.namespace,
      POD_IP: status.podIP ?? '',
      POD_IPS: (status.podIPs ?? []).map((entry) => entry.ip).join(','),
      NODE_NAME: spec.nodeName ?? '',
      HOST_IP: status.hostIP ?? '',
      CMDB_HOOK_CMDB_URL: cmdbUrl,
      CMDB_HOOK_PODINFO_DIR: podinfo,
    };
    const runs: HookRun[] = [];
    for (const { name } of spec.containers) runs.push(await runHook(HOOK_ARGS(command, name), { env }));
    return runs;
  } finally {
    rmSync(podinfo, { recursive: true, force: true });
  }
}

/** The kubelet's status update once every container's readiness probe passed: ready, ContainersReady and Ready True. */
export function turnReady(api: KubeApi, namespace: string, name: string): KubeObject {
  return api.modifyPod(namespace, name, (pod) => {
    const { status } = partsOf(pod);
    const at = new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
    for (const container of status.containerStatuses ?? []) container.ready = true;
    const gates = ((pod.spec as { readinessGates?: { conditionType: string }[] }).readinessGates ?? []).map((gate) => gate.conditionType);
    const gatesTrue = gates.every((type) => status.conditions?.some((condition) => condition.type === type && condition.status === 'True'));
    for (const condition of status.conditions ?? []) {
      if (condition.type === 'ContainersReady' || (condition.type === 'Ready' && gatesTrue)) {
        condition.status = 'True';
        condition.lastTransitionTime = at;
        delete condition.reason;
      }
    }
  });
}
