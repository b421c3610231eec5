/**
 * A container's environment, resolved the way the kubelet does (pkg/kubelet/kubelet_pods.go makeEnvironmentVariables):
 * envFrom first, in order, with its prefix; then env in order, overriding; literal values expand $(VAR) references to
 * variables defined before them ($$ escapes); valueFrom reads fieldRef (Downward API), configMapKeyRef and
 * secretKeyRef from the manifests' own ConfigMaps and Secrets.
 */
import type { HttpGetAction } from './kubelet-http.ts';
import type { Probe } from './probe-worker.ts';
import type { KubeObject } from './render.ts';

export interface PodFacts {
  name: string;
  namespace: string;
  uid: string;
  ips: string[];
  nodeName: string;
  hostIps: string[];
  serviceAccountName: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    fieldRef?: { fieldPath: string };
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
  };
}

interface EnvFromSource {
  prefix?: string;
  configMapRef?: { name: string; optional?: boolean };
  secretRef?: { name: string; optional?: boolean };
}

export interface LifecycleHandler {
  exec?: { command: string[] };
  httpGet?: HttpGetAction;
}

export interface ContainerSpec {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  /** `Always` on an init container makes it a native sidecar. */
  restartPolicy?: string;
  env?: EnvVar[];
  envFrom?: EnvFromSource[];
  ports?: { containerPort: number; name?: string }[];
  volumeMounts?: { name: string; mountPath: string; subPath?: string; readOnly?: boolean }[];
  lifecycle?: { postStart?: LifecycleHandler; preStop?: LifecycleHandler };
  startupProbe?: Probe;
  readinessProbe?: Probe;
  livenessProbe?: Probe;
}

/** A pod's facts as a node would show them, with what the controllers and the kubelet add to its metadata. */
export function podFacts(
  workload: KubeObject,
  metadata: { labels?: Record<string, string>; annotations?: Record<string, string> },
  pod: { name: string; uid: string; ip: string; hostIp: string },
): PodFacts {
  const added: Record<string, string> =
    workload.kind === 'StatefulSet'
      ? { 'apps.kubernetes.io/pod-index': pod.name.split('-').at(-1) ?? '0', 'controller-revision-hash': `${workload.metadata.name}-5d8f7c9b6`, 'statefulset.kubernetes.io/pod-name': pod.name }
      : { 'pod-template-hash': '6f9c8d7b5' };
  return {
    name: pod.name,
    namespace: 'shop',
    uid: pod.uid,
    ips: [pod.ip],
    nodeName: 'node-a',
    hostIps: [pod.hostIp],
    serviceAccountName: 'default',
    labels: { ...metadata.labels, ...added },
    annotations: { ...metadata.annotations, 'kubernetes.io/config.seen': new Date().toISOString(), 'kubernetes.io/config.source': 'api' },
  };
}

export function resolveEnv(container: ContainerSpec, pod: PodFacts, objects: KubeObject[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const source of container.envFrom ?? []) {
    const ref = source.configMapRef ?? source.secretRef;
    const data = source.configMapRef ? configMapData(objects, ref?.name ?? '') : secretData(objects, ref?.name ?? '');
    if (!data) {
      if (ref?.optional) continue;
      throw new Error(`envFrom: no ${source.configMapRef ? 'ConfigMap' : 'Secret'} ${ref?.name} in the manifests`);
    }
    for (const [key, value] of Object.entries(data)) env[`${source.prefix ?? ''}${key}`] = value;
  }
  for (const variable of container.env ?? []) {
    const value = variable.valueFrom ? valueFrom(variable, pod, objects) : expand(variable.value ?? '', env);
    if (value !== undefined) env[variable.name] = value;
  }
  return env;
}

/** $(VAR) -> its value if defined earlier, left as written otherwise; $$(VAR) -> $(VAR) (kubernetes third_party/forked/golang/expansion). */
export function expand(text: string, env: Record<string, string>): string {
  return text.replace(/\$\$|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)/g, (match, name: string | undefined) => {
    if (match === '$$') return '$';
    return name !== undefined && name in env ? (env[name] ?? '') : match;
  });
}

function valueFrom(variable: EnvVar, pod: PodFacts, objects: KubeObject[]): string | undefined {
  const from = variable.valueFrom ?? {};
  if (from.fieldRef) return fieldValue(from.fieldRef.fieldPath, pod);
  const ref = from.configMapKeyRef ?? from.secretKeyRef;
  if (!ref) throw new Error(`env ${variable.name}: only fieldRef, configMapKeyRef and secretKeyRef are modelled`);
  const data = from.configMapKeyRef ? configMapData(objects, ref.name) : secretData(objects, ref.name);
  const value = data?.[ref.key];
  if (value === undefined && !ref.optional) throw new Error(`env ${variable.name}: ${ref.name} has no key ${ref.key}`);
  return value;
}

/** The Downward API fields the kubelet offers as env vars (plural ones comma-joined). */
export function fieldValue(path: string, pod: PodFacts): string {
  const indexed = /^metadata\.(labels|annotations)\['(.+)'\]$/.exec(path);
  if (indexed) return (indexed[1] === 'labels' ? pod.labels : pod.annotations)[indexed[2] ?? ''] ?? '';
  const fields: Record<string, string> = {
    'metadata.name': pod.name,
    'metadata.namespace': pod.namespace,
    'metadata.uid': pod.uid,
    'spec.nodeName': pod.nodeName,
    'spec.serviceAccountName': pod.serviceAccountName,
    'status.podIP': pod.ips[0] ?? '',
    'status.podIPs': pod.ips.join(','),
    'status.hostIP': pod.hostIps[0] ?? '',
    'status.hostIPs': pod.hostIps.join(','),
  };
  const value = fields[path];
  if (value === undefined) throw new Error(`fieldRef ${path} is not a Downward API env field`);
  return value;
}

export function configMapData(objects: KubeObject[], name: string): Record<string, string> | undefined {
  const object = objects.find((candidate) => candidate.kind === 'ConfigMap' && candidate.metadata.name === name);
  return object ? { ...(object.data as Record<string, string> | undefined) } : undefined;
}

export function secretData(objects: KubeObject[], name: string): Record<string, string> | undefined {
  const object = objects.find((candidate) => candidate.kind === 'Secret' && candidate.metadata.name === name);
  if (!object) return undefined;
  const data = Object.entries((object.data as Record<string, string> | undefined) ?? {}).map(([key, value]): [string, string] => [key, Buffer.from(value, 'base64').toString('utf8')]);
  // stringData is write-only sugar: the API server merges it over data.
  return { ...Object.fromEntries(data), ...(object.stringData as Record<string, string> | undefined) };
}
