/**
 * One pod, run the way the kubelet runs it, from the rendered manifests (no cluster needed):
 * - volumes: downwardAPI files in the kubelet's format, Secret and ConfigMap files, emptyDirs;
 * - init containers run in order, each to completion;
 * - each container: its process (a stand-in for the image's entrypoint) starts, the postStart command is exec'd
 *   concurrently (argv as written, resolved env, no shell), and the container counts as Running only when the hook
 *   returns; a failing hook kills the container (FailedPostStartHook);
 * - termination (kuberuntime killContainer): preStop runs only when the grace period is above 0 (kubernetes PR #49449)
 *   and may use all of it, SIGTERM follows at once, the rest of the grace period (at least 2 s,
 *   minimumGracePeriodInSeconds) is left before SIGKILL.
 * What differs from a node, and is mapped instead: paths in the manifests point into a temporary root per pod
 * (mounts -> volume folders, other absolute paths -> the image's folder, /proc/1/fd/1 -> the container's log, which
 * is what `kubectl logs` shows), and each containerPort gets a free loopback port (rewritten in env and args).
 * Only paths written in the manifests are mapped: a default compiled into the agent (e.g. /etc/podinfo) would be
 * read on this machine, so the manifests name such paths explicitly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { configMapData, fieldValue, resolveEnv, secretData, type ContainerSpec, type PodFacts } from './environment.ts';
import { formatGoQuotedMap } from './go-format.ts';
import type { KubeObject } from './render.ts';

export interface PodOptions {
  objects: KubeObject[];
  /** The workload whose pod template to run, e.g. `Deployment/shop-web`. */
  workload: string;
  name: string;
  uid?: string;
  ip: string;
  /** Each image's files, by image name, and whether it carries Node 26 (which the bundled agent needs on PATH). */
  images: Record<string, Image>;
  /** argv of the process standing in for a container's entrypoint; `ports` maps containerPort -> loopback port. */
  entrypoint: (container: ContainerSpec, ports: Record<number, number>) => string[];
  /** The stand-in network: text replaced in env values and hook args, e.g. the CMDB's URL -> the sandbox's. */
  rewrites?: [string, string][];
}

export interface Image {
  root: string;
  node: boolean;
}

export interface PodEvent {
  at: number;
  container: string;
  type: string;
  detail?: string;
}

interface ContainerState {
  spec: ContainerSpec;
  process?: ChildProcess;
  exited?: Promise<void>;
  hooks: Set<ChildProcess>;
  restarts: number;
}

interface PodSpec {
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: Volume[];
  terminationGracePeriodSeconds?: number;
}

interface Volume {
  name: string;
  emptyDir?: object;
  downwardAPI?: { items: { path: string; fieldRef: { fieldPath: string } }[] };
  secret?: { secretName: string; items?: { key: string; path: string }[] };
  configMap?: { name: string; items?: { key: string; path: string }[] };
}

const MINIMUM_GRACE_MS = 2000;

export class Pod {
  readonly facts: PodFacts;
  readonly events: PodEvent[] = [];
  readonly spec: PodSpec;
  private readonly root = mkdtempSync(join(tmpdir(), 'cmdb-hook-pod-'));
  private readonly containers = new Map<string, ContainerState>();
  private ports: Record<number, number> = {};
  private readonly options: PodOptions;

  constructor(options: PodOptions) {
    this.options = options;
    const workload = options.objects.find((object) => `${object.kind}/${object.metadata.name}` === options.workload);
    if (!workload) throw new Error(`no ${options.workload} in the rendered manifests`);
    const template = (workload.spec as { template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec } }).template;
    this.spec = template.spec;
    // What the controllers and the kubelet add to a real pod's metadata, so the downwardAPI files look like a node's.
    const added: Record<string, string> =
      workload.kind === 'StatefulSet'
        ? { 'apps.kubernetes.io/pod-index': options.name.split('-').at(-1) ?? '0', 'controller-revision-hash': `${workload.metadata.name}-5d8f7c9b6`, 'statefulset.kubernetes.io/pod-name': options.name }
        : { 'pod-template-hash': '6f9c8d7b5' };
    this.facts = {
      name: options.name,
      namespace: 'shop',
      uid: options.uid ?? randomUUID(),
      ips: [options.ip],
      nodeName: 'node-a',
      hostIps: ['192.0.2.10'],
      serviceAccountName: 'default',
      labels: { ...template.metadata?.labels, ...added },
      annotations: { ...template.metadata?.annotations, 'kubernetes.io/config.seen': new Date().toISOString(), 'kubernetes.io/config.source': 'api' },
    };
  }

  get graceMs(): number {
    return (this.spec.terminationGracePeriodSeconds ?? 30) * 1000;
  }

  /** Volumes, init containers, then each container with its postStart; resolves when all are Running (or failed). */
  async start(): Promise<void> {
    this.ports = await allocatePorts(this.spec.containers);
    for (const volume of this.spec.volumes ?? []) this.materialize(volume);
    for (const init of this.spec.initContainers ?? []) {
      const result = await this.exec(init, init.command ?? [], 'init');
      if (result.code !== 0) throw new Error(`init container ${init.name} failed (${result.code}): ${result.stderr}`);
    }
    for (const spec of this.spec.containers) await this.startContainer(spec.name, spec);
  }

  async startContainer(name: string, spec = this.state(name).spec): Promise<void> {
    const state = this.containers.get(name) ?? { spec, hooks: new Set<ChildProcess>(), restarts: -1 };
    state.restarts++;
    this.containers.set(name, state);
    const log = openSync(this.logFile(name), 'a');
    const [file = '', ...args] = this.options.entrypoint(spec, this.ports);
    const process = spawn(file, args, { env: this.env(spec), stdio: ['ignore', log, log], cwd: this.image(spec).root });
    closeSync(log);
    state.process = process;
    state.exited = new Promise((resolve) => process.once('exit', (code, signal) => resolve(this.record(name, 'exited', `${code ?? signal}`))));
    this.record(name, 'started', `restart ${state.restarts}`);
    const postStart = spec.lifecycle?.postStart?.exec?.command;
    if (!postStart) return this.record(name, 'running');
    const result = await this.exec(spec, postStart, 'postStart');
    if (result.code === 0) return this.record(name, 'running');
    this.record(name, 'FailedPostStartHook', result.stderr.trimEnd().split('\n').at(-1));
    await this.killContainer(name, 'FailedPostStartHook');
  }

  /** Runs a container's hook once more, as an at-least-once delivery would. */
  runHook(name: string, hook: 'postStart' | 'preStop'): Promise<ExecResult> {
    const spec = this.state(name).spec;
    return this.exec(spec, spec.lifecycle?.[hook]?.exec?.command ?? [], hook);
  }

  /**
   * Scale-down, rollout or delete: every container is killed with its preStop, under the grace period.
   * `gracePeriodSeconds` is what killContainer gets (a delete's --grace-period); at 0 it skips preStop. Note that
   * current kubelets raise a force delete's 0 to at least 1 s before killContainer (pod_workers
   * calculateEffectiveGracePeriod), so there preStop still runs, for about 1 s: kubernetes #123408. Pass 1 for that.
   */
  async terminate(gracePeriodSeconds = this.spec.terminationGracePeriodSeconds ?? 30): Promise<void> {
    await Promise.all([...this.containers.keys()].map((name) => this.killContainer(name, 'Killing', gracePeriodSeconds * 1000)));
  }

  /** A liveness-probe restart: the kubelet kills the container (preStop included) and starts it again. */
  async restartContainer(name: string): Promise<void> {
    await this.killContainer(name, 'Unhealthy');
    await this.startContainer(name);
  }

  /** A crash or an OOM kill: the process dies; no preStop runs (kubernetes #93818). startContainer is the restart. */
  async crash(name: string): Promise<void> {
    const state = this.state(name);
    this.record(name, 'crashed');
    state.process?.kill('SIGKILL');
    await state.exited;
  }

  /** What `kubectl logs` would show for the container: its stdout/stderr, and hook lines sent to /proc/1/fd/1. */
  logs(name: string): string {
    return readFileSync(this.logFile(name), 'utf8');
  }

  at(type: string, container?: string): number | undefined {
    return this.events.find((event) => event.type === type && (!container || event.container === container))?.at;
  }

  /** Resolves once an event of this type has happened, so a test can act at that step (e.g. while a hook runs). */
  async until(type: string, container?: string): Promise<number> {
    for (;;) {
      const at = this.at(type, container);
      if (at !== undefined) return at;
      await sleep(5);
    }
  }

  async cleanup(): Promise<void> {
    for (const state of this.containers.values()) {
      for (const hook of state.hooks) hook.kill('SIGKILL');
      state.process?.kill('SIGKILL');
      await state.exited;
    }
    rmSync(this.root, { recursive: true, force: true });
  }

  private async killContainer(name: string, reason: string, graceMs = this.graceMs): Promise<void> {
    const state = this.state(name);
    const started = performance.now();
    this.record(name, 'killing', reason);
    const preStop = state.spec.lifecycle?.preStop?.exec?.command;
    // killContainer runs preStop only "if there is enough time to run it": gracePeriod > 0 (PR #49449).
    if (preStop && graceMs > 0) {
      // executePreStopHook waits for the hook or the grace period, whichever comes first. (The kubelet counts the
      // time it took in whole seconds, rounding down, so a real node may leave up to 1 s more: this is stricter.)
      await within(this.exec(state.spec, preStop, 'preStop'), graceMs);
    }
    const left = Math.max(graceMs - (performance.now() - started), MINIMUM_GRACE_MS);
    this.record(name, 'SIGTERM');
    state.process?.kill('SIGTERM');
    const exitedInTime = (await within(state.exited ?? Promise.resolve(), left)) !== TIMED_OUT;
    if (!exitedInTime) {
      this.record(name, 'SIGKILL');
      state.process?.kill('SIGKILL');
      await state.exited;
    }
    // Whatever still runs in the container (a hook past the grace period) goes with it.
    await Promise.all([...state.hooks].map((hook) => (hook.kill('SIGKILL'), once(hook, 'close'))));
  }

  private exec(spec: ContainerSpec, command: string[], what: string): Promise<ExecResult> {
    const [file = '', ...args] = command.map((arg) => this.mapValue(spec, arg));
    const child = spawn(file, args, { env: this.env(spec), stdio: ['ignore', 'pipe', 'pipe'], shell: false, cwd: this.image(spec).root });
    const state = this.containers.get(spec.name);
    state?.hooks.add(child);
    this.record(spec.name, `${what}:started`);
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    return new Promise((resolve) => {
      // A command that cannot start (no such file in the image) fails the hook like the runtime's exec would.
      child.on('error', (error) => (stderr += `${error.message}\n`));
      child.on('close', (code, signal) => {
        state?.hooks.delete(child);
        this.record(spec.name, `${what}:exited`, String(code ?? signal));
        resolve({ code, stdout, stderr });
      });
    });
  }

  /** The container's environment: resolved from the manifests, mapped onto this machine, plus what the runtime adds. */
  private env(spec: ContainerSpec): Record<string, string> {
    const resolved = resolveEnv(spec, this.facts, this.options.objects);
    const mapped = Object.fromEntries(Object.entries(resolved).map(([key, value]) => [key, this.mapValue(spec, value)]));
    // An image with Node has the pinned one first on PATH (the bundled agent's `#!/usr/bin/env node` needs it);
    // one without gets an empty folder, so nothing of this machine's own PATH leaks in.
    const path = this.image(spec).node ? `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin` : join(this.image(spec).root, 'bin');
    // The container's own temp folder, kept across restarts in the pod (as an emptyDir at /tmp would be).
    const tmp = join(this.root, 'tmp', spec.name);
    mkdirSync(tmp, { recursive: true });
    return { PATH: path, HOSTNAME: this.facts.name, TMPDIR: tmp, ...mapped };
  }

  private mapValue(spec: ContainerSpec, value: string): string {
    const ports = Object.entries(this.ports).flatMap(([from, to]): [string, string][] => [[`127.0.0.1:${from}`, `127.0.0.1:${to}`], [`localhost:${from}`, `localhost:${to}`]]);
    const rewritten = [...(this.options.rewrites ?? []), ...ports].reduce((text, [from, to]) => text.replaceAll(from, to), value);
    if (!rewritten.startsWith('/')) return rewritten;
    if (/^\/proc\/1\/fd\/[12]$/.test(rewritten)) return this.logFile(spec.name);
    const mount = (spec.volumeMounts ?? [])
      .filter((entry) => rewritten === entry.mountPath || rewritten.startsWith(`${entry.mountPath}/`))
      .sort((a, b) => b.mountPath.length - a.mountPath.length)[0];
    if (mount) return join(this.root, 'volumes', mount.name, rewritten.slice(mount.mountPath.length));
    return join(this.image(spec).root, rewritten);
  }

  private materialize(volume: Volume): void {
    const dir = join(this.root, 'volumes', volume.name);
    mkdirSync(dir, { recursive: true });
    const write = (path: string, text: string) => {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    };
    if (volume.downwardAPI) {
      for (const item of volume.downwardAPI.items) {
        const path = item.fieldRef.fieldPath;
        write(item.path, path === 'metadata.labels' ? formatGoQuotedMap(this.facts.labels) : path === 'metadata.annotations' ? formatGoQuotedMap(this.facts.annotations) : fieldValue(path, this.facts));
      }
    }
    const source = volume.secret ? secretData(this.options.objects, volume.secret.secretName) : volume.configMap ? configMapData(this.options.objects, volume.configMap.name) : undefined;
    const items = volume.secret?.items ?? volume.configMap?.items;
    for (const [key, value] of Object.entries(source ?? {})) {
      const item = items ? items.find((entry) => entry.key === key) : { key, path: key };
      if (item) write(item.path, value);
    }
  }

  private image(spec: ContainerSpec): Image {
    const image = this.options.images[spec.image];
    if (!image) throw new Error(`no folder for image ${spec.image}`);
    return image;
  }

  private logFile(name: string): string {
    return join(this.root, `${name}.log`);
  }

  private state(name: string): ContainerState {
    const state = this.containers.get(name);
    if (!state) throw new Error(`no container ${name} started`);
    return state;
  }

  private record(container: string, type: string, detail?: string): void {
    this.events.push({ at: performance.now(), container, type, ...(detail === undefined ? {} : { detail }) });
  }
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

const TIMED_OUT = Symbol('timed out');

/** The promise's value, or TIMED_OUT after `ms`; the timer is cleared either way, so nothing lingers. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((resolve) => (timer = setTimeout(() => resolve(TIMED_OUT), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** A free loopback port for each containerPort: every pod has its own network namespace on a node; here they share one. */
async function allocatePorts(containers: ContainerSpec[]): Promise<Record<number, number>> {
  const ports: Record<number, number> = {};
  for (const port of containers.flatMap((container) => container.ports ?? [])) {
    ports[port.containerPort] = await new Promise<number>((resolve) => {
      const server = net.createServer().listen(0, '127.0.0.1', () => {
        const { port: free } = server.address() as net.AddressInfo;
        server.close(() => resolve(free));
      });
    });
  }
  return ports;
}
