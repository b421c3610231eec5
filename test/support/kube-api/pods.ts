/**
 * Realistic pod objects, shaped like what kube-apiserver returns for a Deployment's pod on a node (the fields and
 * defaults of k8s.io/api core/v1 types.go; condition types and the Ready rule from docs: concepts/workloads/pods/
 * pod-lifecycle, "Pod conditions" and "Pod readiness gate": Ready is True only when every container is ready and every
 * readiness gate's condition is True, a missing one counting as False). managedFields entries like those the
 * kube-controller-manager and the kubelet leave, so objects have their real size (3 to 5 KB of JSON).
 */
import { randomUUID } from 'node:crypto';
import type { KubeObject } from './resources.ts';

export interface PodOptions {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** Unset: not scheduled yet (no node, phase Pending). Default node-1. */
  nodeName?: string | null;
  phase?: 'Pending' | 'Running' | 'Succeeded' | 'Failed';
  /** Default: one from 10.244.0.0/16; dual-stack when podIPs is given. */
  podIP?: string;
  podIPs?: string[];
  /** Whether every container is ready (default true when Running). */
  ready?: boolean;
  containers?: string[];
  /** spec.readinessGates[].conditionType */
  readinessGates?: string[];
  /** Extra status.conditions, e.g. a readiness gate's. */
  conditions?: { type: string; status: 'True' | 'False' | 'Unknown'; reason?: string; message?: string }[];
  /** The owning ReplicaSet's name (default `<app>-7d9f8b6c5d` from the name); null for a bare pod. */
  replicaSet?: string | null;
  uid?: string;
  hostNetwork?: boolean;
  /** Exec hooks of every container: the command of lifecycle.postStart and of lifecycle.preStop. */
  lifecycle?: { postStart?: string[]; preStop?: string[] };
  /** Plain env vars of every container, after POD_NAME and POD_IP (a production app's config: a dozen or more). */
  env?: Record<string, string>;
}

let nextAddress = 10;
const time = (secondsAgo: number) => new Date(Date.now() - secondsAgo * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z');

export function makePod(options: PodOptions): KubeObject {
  const namespace = options.namespace ?? 'default';
  const nodeName = options.nodeName === undefined ? 'node-1' : options.nodeName;
  const phase = options.phase ?? (nodeName ? 'Running' : 'Pending');
  const running = phase === 'Running';
  const ready = options.ready ?? running;
  const app = options.labels?.app ?? options.name.replace(/-[a-z0-9]{10}-[a-z0-9]{5}$|-[a-z0-9]{5}$/, '');
  const replicaSet = options.replicaSet === undefined ? `${app}-7d9f8b6c5d` : options.replicaSet;
  const address = nextAddress++;
  const podIP = options.podIP ?? options.podIPs?.[0] ?? `10.244.${Math.floor(address / 250) % 250}.${(address % 250) + 2}`;
  const podIPs = options.podIPs ?? [podIP];
  const hostIP = nodeName ? '192.168.49.2' : undefined;
  const containers = options.containers ?? ['app'];
  const gates = options.readinessGates ?? [];
  const extra = options.conditions ?? [];
  const gatesTrue = gates.every((gate) => extra.some((condition) => condition.type === gate && condition.status === 'True'));
  const condition = (type: string, status: boolean, reason?: string) => ({ type, status: status ? 'True' : 'False', lastProbeTime: null, lastTransitionTime: time(60), ...(reason && !status ? { reason } : {}) });
  const ownerUid = randomUUID();
  const plainEnv = Object.entries(options.env ?? {}).map(([name, value]) => ({ name, value }));
  const serviceAccountVolume = `kube-api-access-${options.name.slice(-5).replace(/[^a-z0-9]/g, 'x').padStart(5, 'x')}`;
  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: options.name,
      ...(replicaSet ? { generateName: `${replicaSet}-` } : {}),
      namespace,
      uid: options.uid ?? randomUUID(),
      generation: 1,
      creationTimestamp: time(120),
      labels: { app, ...(replicaSet ? { 'pod-template-hash': replicaSet.slice(app.length + 1) } : {}), ...options.labels },
      ...(options.annotations ? { annotations: options.annotations } : {}),
      ...(replicaSet ? { ownerReferences: [{ apiVersion: 'apps/v1', kind: 'ReplicaSet', name: replicaSet, uid: ownerUid, controller: true, blockOwnerDeletion: true }] } : {}),
      managedFields: managedFields({ containers, gates, running, ownerUid, podIPs, env: plainEnv.map((entry) => entry.name) }),
    },
    spec: {
      volumes: [
        {
          name: serviceAccountVolume,
          projected: {
            sources: [
              { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
              { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
              { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
            ],
            defaultMode: 420,
          },
        },
      ],
      containers: containers.map((name) => ({
        name,
        image: `registry.example/${app}:1.4.2`,
        ports: [{ name: 'http', containerPort: 8080, protocol: 'TCP' }],
        env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.name' } } }, { name: 'POD_IP', valueFrom: { fieldRef: { apiVersion: 'v1', fieldPath: 'status.podIP' } } }, ...plainEnv],
        resources: { limits: { memory: '256Mi' }, requests: { cpu: '100m', memory: '128Mi' } },
        readinessProbe: { httpGet: { path: '/ready', port: 8080, scheme: 'HTTP' }, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 },
        volumeMounts: [{ name: serviceAccountVolume, readOnly: true, mountPath: '/var/run/secrets/kubernetes.io/serviceaccount' }],
        terminationMessagePath: '/dev/termination-log',
        terminationMessagePolicy: 'File',
        imagePullPolicy: 'IfNotPresent',
        ...(options.lifecycle ? { lifecycle: lifecycleOf(options.lifecycle) } : {}),
      })),
      restartPolicy: 'Always',
      terminationGracePeriodSeconds: 30,
      dnsPolicy: 'ClusterFirst',
      serviceAccountName: 'default',
      serviceAccount: 'default',
      ...(nodeName ? { nodeName } : {}),
      ...(options.hostNetwork ? { hostNetwork: true } : {}),
      securityContext: {},
      schedulerName: 'default-scheduler',
      tolerations: [
        { key: 'node.kubernetes.io/not-ready', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
        { key: 'node.kubernetes.io/unreachable', operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 300 },
      ],
      priority: 0,
      enableServiceLinks: true,
      preemptionPolicy: 'PreemptLowerPriority',
      ...(gates.length ? { readinessGates: gates.map((conditionType) => ({ conditionType })) } : {}),
    },
    status: {
      phase,
      observedGeneration: 1,
      conditions: [
        ...(nodeName ? [condition('PodReadyToStartContainers', running), condition('Initialized', true)] : []),
        condition('Ready', ready && gatesTrue, gatesTrue ? 'ContainersNotReady' : 'ReadinessGatesNotReady'),
        ...(nodeName ? [condition('ContainersReady', ready, 'ContainersNotReady')] : []),
        condition('PodScheduled', Boolean(nodeName), 'Unschedulable'),
        ...extra.map((entry) => ({ lastProbeTime: null, lastTransitionTime: time(30), ...entry })),
      ],
      ...(hostIP ? { hostIP, hostIPs: [{ ip: hostIP }] } : {}),
      ...(running ? { podIP, podIPs: podIPs.map((ip) => ({ ip })) } : {}),
      ...(nodeName ? { startTime: time(118) } : {}),
      ...(nodeName ? { containerStatuses: containers.map((name) => containerStatus(name, app, running, ready)) } : {}),
      qosClass: 'Burstable',
    },
  };
}

function lifecycleOf(hooks: NonNullable<PodOptions['lifecycle']>) {
  return {
    ...(hooks.postStart ? { postStart: { exec: { command: hooks.postStart } } } : {}),
    ...(hooks.preStop ? { preStop: { exec: { command: hooks.preStop } } } : {}),
  };
}

function containerStatus(name: string, app: string, running: boolean, ready: boolean) {
  return {
    name,
    state: running ? { running: { startedAt: time(110) } } : { waiting: { reason: 'ContainerCreating' } },
    lastState: {},
    ready,
    restartCount: 0,
    image: `registry.example/${app}:1.4.2`,
    imageID: `registry.example/${app}@sha256:${'4f2a9c'.repeat(10)}9c7e`,
    ...(running ? { containerID: `containerd://${'a1b2c3d4'.repeat(8)}`, started: true } : { started: false }),
    volumeMounts: [{ name: 'kube-api-access', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true, recursiveReadOnly: 'Disabled' }],
  };
}

/** The two writers of a Deployment's pod: the ReplicaSet controller (spec) and the kubelet (status). */
function managedFields(pod: { containers: string[]; gates: string[]; running: boolean; ownerUid: string; podIPs: string[]; env: string[] }): Record<string, unknown>[] {
  const { containers, gates, running } = pod;
  const env = { '.': {}, 'f:name': {}, 'f:valueFrom': { '.': {}, 'f:fieldRef': {} } };
  const plain = Object.fromEntries(pod.env.map((name) => [`k:{"name":"${name}"}`, { '.': {}, 'f:name': {}, 'f:value': {} }]));
  const container = {
    '.': {},
    'f:env': { '.': {}, 'k:{"name":"POD_IP"}': env, 'k:{"name":"POD_NAME"}': env, ...plain },
    'f:image': {},
    'f:imagePullPolicy': {},
    'f:name': {},
    'f:ports': { '.': {}, 'k:{"containerPort":8080,"protocol":"TCP"}': { '.': {}, 'f:containerPort': {}, 'f:name': {}, 'f:protocol': {} } },
    'f:readinessProbe': { '.': {}, 'f:failureThreshold': {}, 'f:httpGet': { '.': {}, 'f:path': {}, 'f:port': {}, 'f:scheme': {} }, 'f:periodSeconds': {}, 'f:successThreshold': {}, 'f:timeoutSeconds': {} },
    'f:resources': { '.': {}, 'f:limits': { '.': {}, 'f:memory': {} }, 'f:requests': { '.': {}, 'f:cpu': {}, 'f:memory': {} } },
    'f:terminationMessagePath': {},
    'f:terminationMessagePolicy': {},
  };
  const spec = {
    'f:metadata': { 'f:generateName': {}, 'f:labels': { '.': {}, 'f:app': {}, 'f:pod-template-hash': {} }, 'f:ownerReferences': { '.': {}, [`k:{"uid":"${pod.ownerUid}"}`]: {} } },
    'f:spec': { 'f:containers': Object.fromEntries(containers.map((name) => [`k:{"name":"${name}"}`, container])), 'f:dnsPolicy': {}, 'f:enableServiceLinks': {}, ...(gates.length ? { 'f:readinessGates': {} } : {}), 'f:restartPolicy': {}, 'f:schedulerName': {}, 'f:securityContext': {}, 'f:terminationGracePeriodSeconds': {} },
  };
  const conditionFields = { '.': {}, 'f:lastProbeTime': {}, 'f:lastTransitionTime': {}, 'f:status': {}, 'f:type': {} };
  const status = {
    'f:status': {
      'f:conditions': Object.fromEntries(['ContainersReady', 'Initialized', 'PodReadyToStartContainers', 'Ready'].map((type) => [`k:{"type":"${type}"}`, conditionFields])),
      'f:containerStatuses': {},
      'f:hostIP': {},
      'f:hostIPs': {},
      'f:phase': {},
      ...(running ? { 'f:podIP': {}, 'f:podIPs': { '.': {}, ...Object.fromEntries(pod.podIPs.map((ip) => [`k:{"ip":"${ip}"}`, { '.': {}, 'f:ip': {} }])) } } : {}),
      'f:startTime': {},
    },
  };
  return [
    { manager: 'kube-controller-manager', operation: 'Update', apiVersion: 'v1', time: time(120), fieldsType: 'FieldsV1', fieldsV1: spec },
    { manager: 'kubelet', operation: 'Update', apiVersion: 'v1', time: time(100), fieldsType: 'FieldsV1', fieldsV1: status, subresource: 'status' },
  ];
}
