/**
 * What the controller bench needs around the test scene (test/support/controller/controller-run.ts): realistic
 * selected pods in bulk, a pod turning Ready as the kubelet reports it, the controller's peak RSS and CPU from /proc,
 * its metrics, and the sandbox CMDB's requests counted the way the budgets count them.
 */
import { readFileSync } from 'node:fs';
import type { ControllerProcess, Scene } from '../test/support/controller/controller-run.ts';
import { SELECTED } from '../test/support/controller/controller-run.ts';
import type { KubeObject } from '../test/support/kube-api/resources.ts';
import type { LoggedRequest } from '../test/support/sandbox-cmdb.ts';
import { sleep } from './measure.ts';

// A production app's plain settings: with them a pod is ~7.3 KB of JSON, ~3.1 KB of it managedFields (the
// ReplicaSet controller's and the kubelet's entries), the size of a Deployment's pod on a real cluster.
const SETTINGS = ['LOG_LEVEL', 'HTTP_PORT', 'GRPC_PORT', 'DATABASE_HOST', 'DATABASE_PORT', 'DATABASE_NAME', 'REDIS_URL', 'KAFKA_BROKERS', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME', 'FEATURE_FLAGS', 'CACHE_TTL_SECONDS', 'REGION', 'ENVIRONMENT', 'TZ', 'JAVA_TOOL_OPTIONS'];
const ENV = Object.fromEntries(SETTINGS.map((name, index) => [name, `value-${index}-${name.toLowerCase().replace(/_/g, '-')}`]));

export const NAMESPACES = 10;

/** `count` selected pods (numbered from `first`) of one Deployment per namespace, spread over NAMESPACES namespaces. */
export function addPods(scene: Scene, count: number, ready = true, first = 0): { namespace: string; name: string }[] {
  const added: { namespace: string; name: string }[] = [];
  for (let index = first; index < first + count; index++) {
    const namespace = `team-${index % NAMESPACES}`;
    const name = `web-7d9f8b6c5d-${index.toString(36).padStart(5, '0')}`;
    scene.api.addPod({ name, namespace, labels: { app: 'web', ...SELECTED }, env: ENV, ready });
    added.push({ namespace, name });
  }
  return added;
}

/** What the kubelet writes when the readiness probe passes: the container ready, Ready and ContainersReady True. */
export function turnReady(pod: KubeObject): void {
  const status = pod.status as { conditions: { type: string; status: string; reason?: string }[]; containerStatuses: { ready: boolean }[] };
  for (const container of status.containerStatuses) container.ready = true;
  for (const condition of status.conditions) {
    if (condition.type === 'Ready' || condition.type === 'ContainersReady') {
      condition.status = 'True';
      delete condition.reason;
    }
  }
}

/** VmHWM (peak resident set) and CPU seconds (user + system) of a running process. */
export function processUsage(pid: number | undefined): { peakRssMiB: number; cpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const hwm = Number(/VmHWM:\s+(\d+) kB/.exec(status)?.[1] ?? Number.NaN);
  // /proc/<pid>/stat: fields 14 and 15 are utime and stime in clock ticks (100 per second on Linux x64).
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /, '').split(' ');
  return { peakRssMiB: Math.round((hwm / 1024) * 10) / 10, cpuS: (Number(fields[11]) + Number(fields[12])) / 100 };
}

/** One metric's value from /metrics (the first sample whose name and labels start with `prefix`). */
export async function metric(controller: ControllerProcess, prefix: string): Promise<number> {
  const { body } = await controller.get('/metrics');
  const line = body.split('\n').find((each) => each.startsWith(prefix));
  return line ? Number(line.split(' ').at(-1)) : Number.NaN;
}

/** Polls /readyz every 10 ms: ms from `since` to the first 200, or NaN. */
export async function readyAfter(controller: ControllerProcess, since: number, withinMs: number): Promise<number> {
  const end = performance.now() + withinMs;
  while (performance.now() < end && controller.child.exitCode === null) {
    const ok = await controller.get('/readyz').then((answer) => answer.status === 200, () => false);
    if (ok) return performance.now() - since;
    await sleep(10);
  }
  return Number.NaN;
}

/** Waits until the controller leads and has finished a full pass as leader (its writes are then planned). */
export async function leading(controller: ControllerProcess, withinMs: number): Promise<boolean> {
  return until(async () => (await metric(controller, 'cmdb_hook_controller_leader ')) === 1 && (await metric(controller, 'cmdb_hook_controller_passes_total{result="ok"}')) >= 1, withinMs);
}

export async function until(check: () => boolean | Promise<boolean>, withinMs: number, everyMs = 5): Promise<boolean> {
  const end = performance.now() + withinMs;
  while (performance.now() < end) {
    if (await check()) return true;
    await sleep(everyMs);
  }
  return check();
}

export interface WriteCounts {
  /** PUT and DELETE requests, whatever their answer. */
  writes: number;
  accepted: number;
  /** Answered 429 by the sandbox's rate limit. */
  limited: number;
  /** Accepted writes beyond the first of each record. */
  duplicates: number;
  /** GET pages of the records' listing. */
  listPages: number;
}

export function countWrites(requests: readonly LoggedRequest[]): WriteCounts {
  const writes = requests.filter((entry) => entry.path.startsWith('/records') && entry.method !== 'GET');
  const accepted = writes.filter((entry) => entry.status >= 200 && entry.status < 300);
  return {
    writes: writes.length,
    accepted: accepted.length,
    limited: writes.filter((entry) => entry.status === 429).length,
    duplicates: accepted.length - new Set(accepted.map((entry) => entry.path)).size,
    listPages: requests.filter((entry) => entry.path === '/records' && entry.method === 'GET').length,
  };
}

/** When the `count`-th distinct record was first accepted (the sandbox's performance.now()), or NaN. */
export function nthRecordAt(requests: readonly LoggedRequest[], count: number): number {
  const seen = new Set<string>();
  for (const entry of requests) {
    if (entry.method !== 'PUT' || entry.status < 200 || entry.status >= 300) continue;
    seen.add(entry.path);
    if (seen.size === count) return entry.at;
  }
  return Number.NaN;
}
