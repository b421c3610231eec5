/**
 * What a controller scenario reads besides the CMDB: a sample of /metrics (Prometheus text format), the Events on the
 * pods by reason and pod uid, and the sandbox's requests split into record listings and writes.
 */
import type { KubeApi } from '../kube-api/kube-api-stand-in.ts';
import type { LoggedRequest, SandboxCmdb } from '../sandbox-cmdb.ts';
import type { ControllerProcess } from './controller-run.ts';

/** The value of one sample of /metrics (`cmdb_hook_<name>`, labels as written, e.g. `{result="ok"}`); undefined when absent. */
export function metricValue(text: string, name: string, labels = ''): number | undefined {
  const prefix = `cmdb_hook_${name}${labels} `;
  const line = text.split('\n').find((each) => each.startsWith(prefix));
  return line === undefined ? undefined : Number(line.slice(prefix.length));
}

/** Reads one sample from the running controller's /metrics (undefined when absent or unreachable). */
export async function readMetric(controller: ControllerProcess, name: string, labels = ''): Promise<number | undefined> {
  const answer = await controller.get('/metrics').catch(() => undefined);
  return answer?.status === 200 ? metricValue(answer.body, name, labels) : undefined;
}

/** Polls a metric until `accept` holds for its value; resolves with whether it did within the time. */
export async function untilMetric(controller: ControllerProcess, name: string, labels: string, accept: (value: number | undefined) => boolean, withinMs: number): Promise<boolean> {
  const until = performance.now() + withinMs;
  while (performance.now() < until && controller.child.exitCode === null) {
    if (accept(await readMetric(controller, name, labels))) return true;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return false;
}

interface EventLike {
  reason?: string;
  type?: string;
  involvedObject?: { uid?: string; name?: string };
}

/** The Events of a namespace with this reason, optionally only those on the pod with this uid. */
export function eventsOf(api: KubeApi, namespace: string, reason: string, uid?: string): EventLike[] {
  return (api.events(namespace) as EventLike[]).filter((event) => event.reason === reason && (uid === undefined || event.involvedObject?.uid === uid));
}

/** The sandbox's listings of the records of a cluster (GET with a query). */
export function listings(cmdb: SandboxCmdb): LoggedRequest[] {
  return cmdb.requests.filter((request) => request.method === 'GET' && request.query.includes('cluster='));
}

/** The uid of a stand-in pod. */
export function uidOf(api: KubeApi, namespace: string, name: string): string {
  const uid = api.pod(namespace, name)?.metadata.uid;
  if (!uid) throw new Error(`no pod ${namespace}/${name} in the stand-in`);
  return uid;
}

/** The uids of the pods whose records the sandbox holds, live (`ready`) ones only. */
export function liveUids(cmdb: SandboxCmdb): Set<string> {
  return new Set([...cmdb.records.values()].filter((record) => record.state === 'ready').map((record) => record.pod.uid));
}
