// What the readiness gate's tests share (not a test file itself): the API stand-in over HTTPS with a gate on a real
// client, what the gate logged and told onSet, and the stored pods' gate conditions and patch counts.
import type { TestContext } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import pino from 'pino';
import type { KubeClient } from '../../src/cluster/kube/api-client.ts';
import type { Pod } from '../../src/cluster/kube/pod-cache.ts';
import type { PodCondition } from '../../src/cluster/kube/pod-status.ts';
import { createReadinessGate, GATE_CONDITION, type ReadinessGate, type ReadinessGateOptions } from '../../src/cluster/readiness-gate.ts';
import { makeCertificates } from '../support/certificates.ts';
import type { KubeApi } from '../support/kube-api/kube-api-stand-in.ts';
import type { KubeObject } from '../support/kube-api/resources.ts';
import { standInWithClient } from '../support/kube-client.ts';

const certificates = makeCertificates();

export type Condition = { type: string; status: string; reason?: string; message?: string; lastTransitionTime?: string };
export const conditionsOf = (pod: KubeObject | undefined) => ((pod?.status as { conditions?: Condition[] } | undefined)?.conditions ?? []);
export const asPod = (object: KubeObject | undefined) => object as Pod;
const seconds = (date: Date) => date.toISOString().replace(/\.\d{3}Z$/, 'Z');

export interface Scene {
  api: KubeApi;
  gate: ReadinessGate;
  /** pino lines the gate logged. */
  logs: { level: number; msg: string }[];
  /** Conditions onSet was told of, as `<pod> <status> <reason>`. */
  told: string[];
  stop: AbortController;
  kubeconfig: string;
  /** The gate's condition on the stored pod. */
  gateOf: (name: string) => Condition | undefined;
  patches: (name: string) => number;
  /** The stored pod, as the controller's cache would hand it over. */
  pod: (name: string) => Pod;
}

export async function scene(t: TestContext, options: Partial<ReadinessGateOptions> & { wrap?: (client: KubeClient) => KubeClient } = {}): Promise<Scene> {
  const { api, client, kubeconfig } = await standInWithClient(t, certificates);
  const logs: Scene['logs'] = [];
  const told: string[] = [];
  const stop = new AbortController();
  t.after(() => stop.abort());
  const log = pino({ level: 'debug' }, { write: (line: string) => logs.push(JSON.parse(line) as Scene['logs'][number]) });
  const onSet = (pod: Pod, condition: PodCondition) => told.push(`${pod.metadata?.name ?? ''} ${condition.status} ${condition.reason ?? ''}`);
  const gate = createReadinessGate({ client: options.wrap ? options.wrap(client) : client, strict: false, gateTimeoutMs: 300, signal: stop.signal, log, onSet, retryDelayMs: 50, ...options });
  const stored = (name: string) => api.pod('shop', name);
  return {
    api,
    gate,
    logs,
    told,
    stop,
    kubeconfig,
    gateOf: (name) => conditionsOf(stored(name)).find((condition) => condition.type === GATE_CONDITION),
    patches: (name) => api.requests.filter((request) => request.method === 'PATCH' && request.path === `/api/v1/namespaces/shop/pods/${name}/status`).length,
    pod: (name) => asPod(stored(name)),
  };
}

/** A gated pod whose containers became ready just now (ContainersReady's lastTransitionTime, whole seconds). */
export function addReadyNow(api: KubeApi, name: string): Pod {
  api.addPod({ name, namespace: 'shop', readinessGates: [GATE_CONDITION], replicaSet: null });
  return asPod(api.modifyPod('shop', name, (pod) => {
    const ready = conditionsOf(pod).find((condition) => condition.type === 'ContainersReady');
    if (ready) ready.lastTransitionTime = seconds(new Date());
  }));
}

export const idle = (ms = 400) => sleep(ms);
