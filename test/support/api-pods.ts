/**
 * Pods as the API server returns them, for the controller's in-process tests, and the record the hook builds for
 * the same pod: the Downward API the kubelet would give it (env from fieldRefs, the podinfo files in the kubelet's
 * format, with the kubelet's own config.* annotations), read by the hook's own config and identity code.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Pod } from '../../src/cluster/kube/pod-cache.ts';
import { prepareHook } from '../../src/commands/prepare-hook.ts';
import { registerCommand } from '../../src/commands/register.ts';
import { readPodIdentity } from '../../src/pod/identity.ts';
import { buildRecord, type CmdbRecord } from '../../src/pod/record.ts';
import { formatGoQuotedMap } from './kubelet/go-format.ts';

export interface PodShape {
  name: string;
  uid: string;
  namespace?: string;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed' | 'Unknown';
  ip?: string;
  /** status.podIPs; default [ip]. */
  ips?: string[];
  node?: string;
  hostIp?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  containers?: string[];
  initContainers?: string[];
  ephemeralContainers?: string[];
  /** The containers whose containerStatuses[].ready is true; default all of `containers`. */
  ready?: string[];
  deleting?: boolean;
}

export function apiPod(shape: PodShape): Pod {
  const containers = shape.containers ?? ['app'];
  const ready = new Set(shape.ready ?? containers);
  const ip = shape.ip ?? (shape.phase === undefined || shape.phase === 'Running' ? '10.244.1.7' : undefined);
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: shape.name,
      uid: shape.uid,
      namespace: shape.namespace ?? 'shop',
      resourceVersion: '1',
      labels: shape.labels ?? { 'app.kubernetes.io/name': 'shop' },
      annotations: shape.annotations ?? {},
      ...(shape.deleting ? { deletionTimestamp: '2026-12-01T10:00:00Z' } : {}),
    },
    spec: {
      nodeName: shape.node ?? 'node-1',
      containers: containers.map((name) => ({ name, image: 'shop:1' })),
      ...(shape.initContainers ? { initContainers: shape.initContainers.map((name) => ({ name, image: 'init:1' })) } : {}),
      ...(shape.ephemeralContainers ? { ephemeralContainers: shape.ephemeralContainers.map((name) => ({ name, image: 'busybox:1' })) } : {}),
    },
    status: {
      phase: shape.phase ?? 'Running',
      hostIP: shape.hostIp ?? '192.0.2.1',
      ...(ip ? { podIP: ip, podIPs: (shape.ips ?? [ip]).map((each) => ({ ip: each })) } : {}),
      containerStatuses: containers.map((name) => ({ name, ready: ready.has(name), restartCount: 0, image: 'shop:1', imageID: '', started: true })),
    },
  };
}

/** The hook's flags beyond --cmdb-url, --cluster and --container, e.g. { app: 'x', field: ['k=v'] }. */
export type HookFlags = Readonly<Record<string, unknown>>;

/** The record `cmdb-hook register --cluster <cluster> --container <container> ...flags` builds inside this pod. */
export function hookRecord(pod: Pod, cluster: string, container: string, flags: HookFlags = {}, now = new Date()): CmdbRecord {
  const podinfo = mkdtempSync(join(tmpdir(), 'cmdb-hook-podinfo-'));
  try {
    writeFileSync(join(podinfo, 'labels'), formatGoQuotedMap(pod.metadata?.labels ?? {}));
    const kubelet = { 'kubernetes.io/config.seen': '2026-12-01T09:59:58.123456789Z', 'kubernetes.io/config.source': 'api' };
    writeFileSync(join(podinfo, 'annotations'), formatGoQuotedMap({ ...pod.metadata?.annotations, ...kubelet }));
    const env: NodeJS.ProcessEnv = {
      POD_NAME: pod.metadata?.name,
      POD_UID: pod.metadata?.uid,
      POD_NAMESPACE: pod.metadata?.namespace,
      POD_IP: pod.status?.podIP ?? '',
      POD_IPS: (pod.status?.podIPs ?? []).map((entry) => entry.ip).join(','),
      NODE_NAME: pod.spec?.nodeName ?? '',
      HOST_IP: pod.status?.hostIP ?? '',
    };
    const argv = { 'cmdb-url': 'http://127.0.0.1:9/records', cluster, container, 'podinfo-dir': podinfo, ...flags };
    const { config } = prepareHook('register', registerCommand.options, argv, env);
    return buildRecord(readPodIdentity(config, env), config, 'ready', now);
  } finally {
    rmSync(podinfo, { recursive: true, force: true });
  }
}
