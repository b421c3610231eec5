/**
 * One pod, run the way the kubelet runs it, from the rendered manifests (no cluster needed):
 * - volumes (pod-files.ts): downwardAPI, Secret, ConfigMap, emptyDir, and image volumes (image-volume.ts);
 * - init containers run in order, each to completion; a native sidecar (an init container with restartPolicy
 *   Always) is started instead, and the next container starts once it has started: its startupProbe succeeded, or it
 *   has none, its postStart having returned either way (kuberuntime_manager.go computeInitContainerActions);
 * - each container: its process (a stand-in for the image's entrypoint, or the image's own) starts, the postStart
 *   handler runs (exec: argv as written, resolved env, no shell; httpGet: kubelet-http.ts) and the container counts
 *   as Running only when it returns; a failing hook kills the container (FailedPostStartHook);
 * - probes (probe-worker.ts); the pod is Ready when every app container and every native sidecar is ready
 *   (kubernetes pkg/kubelet/status/generate.go GenerateContainersReadyCondition; the manifests use no readiness gate);
 * - termination (kuberuntime_container.go killContainer, kuberuntime_termination_order.go): every container is
 *   killed at once under the same grace period; preStop runs only when it is above 0 (PR #49449) and may use all of
 *   it; a native sidecar runs its preStop at once too, but its SIGTERM waits until every app container and every
 *   sidecar declared after it has exited (its turn, bounded by what is left of the grace period); SIGTERM then leaves
 *   the rest of the grace period (at least 2 s, minimumGracePeriodInSeconds) before SIGKILL.
 * What differs from a node, and is mapped instead: paths (pod-files.ts); each declared containerPort gets a free
 * loopback port (rewritten in env and args: `127.0.0.1:<port>`, `localhost:<port>`, a listen address `:<port>`);
 * the pod's address is 127.0.0.1, where the kubelet's requests go; they come from the node's address, HOST_IP, which
 * is 127.0.0.3 here, so a server in the pod sees the same source it would on a node where the CNI routes the
 * kubelet's traffic from status.hostIP; another pod is 127.0.0.2. The records still carry the pod's own IP.
 * Only paths and ports written in the manifests are mapped: a default compiled into the agent (e.g. /etc/podinfo)
 * would be read on this machine, so the manifests name such paths explicitly.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { once } from 'node:events';
import { closeSync, mkdirSync, openSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { resolveEnv, type ContainerSpec, type LifecycleHandler, type PodFacts } from './environment.ts';
import { CURRENT_RUNTIME, type ImageVolumeRuntime } from './image-volume.ts';
import { kubeletGet, type HttpGetAction, type KubeletAnswer } from './kubelet-http.ts';
import { PodFiles, type Image, type Volume } from './pod-files.ts';
import { allocatePorts, POD_ADDRESS, NODE_ADDRESS, mapPorts } from './pod-network.ts';
import { ProbeWorker } from './probe-worker.ts';
import type { KubeObject } from './render.ts';

export { NODE_ADDRESS, OTHER_POD_ADDRESS, POD_ADDRESS } from './pod-network.ts';
export type { Image } from './pod-files.ts';

export interface PodOptions {
  objects: KubeObject[];
  /** The workload whose pod template to run, e.g. `Deployment/shop-web`. */
  workload: string;
  name: string;
  uid?: string;
  ip: string;
  /** Each image's files, by image name. */
  images: Record<string, Image>;
  /** argv of the process standing in for a container's entrypoint, or undefined for the image's own entrypoint. */
  entrypoint: (container: ContainerSpec, ports: Record<number, number>) => string[] | undefined;
  /** The stand-in network: text replaced in env values and hook args, e.g. the CMDB's URL -> the sandbox's. */
  rewrites?: [string, string][];
  /** What the container runtime does with image volumes (default: containerd >= 2.2 / CRI-O >= 1.33). */
  runtime?: ImageVolumeRuntime;
}

export interface PodEvent {
  at: number;
  container: string;
  type: string;
  detail?: string;
}

interface ContainerState {
  spec: ContainerSpec;
  sidecar: boolean;
  process?: ChildProcess;
  exited?: Promise<void>;
  running: boolean;
  started: boolean;
  hooks: Set<ChildProcess>;
  probes: ProbeWorker[];
  restarts: number;
}

interface PodSpec {
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: Volume[];
  terminationGracePeriodSeconds?: number;
}

const MINIMUM_GRACE_MS = 2000;

export class Pod {
  readonly facts: PodFacts;
  readonly events: PodEvent[] = [];
  readonly spec: PodSpec;
  private readonly files: PodFiles;
  private readonly containers = new Map<string, ContainerState>();
  private ports: Record<number, number> = {};
  private readonly options: PodOptions;
  private wasReady = false;

  constructor(options: PodOptions) {
    this.options = options;
    const workload = options.objects.find((object) => `${object.kind}/${object.metadata.name}` === options.workload);
    if (!workload) throw new Error(`no ${options.workload} in the rendered manifests`);
    const template = (workload.spec as { template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec } }).template;
    this.spec = template.spec;
    this.files = new PodFiles(options.objects, options.images, options.runtime ?? CURRENT_RUNTIME);
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
      hostIps: [NODE_ADDRESS],
      serviceAccountName: 'default',
      labels: { ...template.metadata?.labels, ...added },
      annotations: { ...template.metadata?.annotations, 'kubernetes.io/config.seen': new Date().toISOString(), 'kubernetes.io/config.source': 'api' },
    };
  }

  get graceMs(): number {
    return (this.spec.terminationGracePeriodSeconds ?? 30) * 1000;
  }

  /** The pod's Ready condition now. */
  get ready(): boolean {
    const wanted = [...(this.spec.initContainers ?? []).filter(isSidecar), ...this.spec.containers];
    return wanted.every((spec) => {
      const state = this.containers.get(spec.name);
      const readiness = state?.probes.find((probe) => probe.type === 'readiness');
      return state !== undefined && state.running && state.started && (!readiness || readiness.result === 'success');
    });
  }

  /** The loopback port standing in for a containerPort of the pod. */
  port(containerPort: number): number {
    const port = this.ports[containerPort];
    if (port === undefined) throw new Error(`containerPort ${containerPort} is declared by no container`);
    return port;
  }

  /** Volumes, init containers and native sidecars, then each container; resolves when all are Running (or failed). */
  async start(): Promise<void> {
    this.ports = await allocatePorts([...(this.spec.initContainers ?? []), ...this.spec.containers]);
    for (const volume of this.spec.volumes ?? []) this.files.materialize(volume, this.facts);
    for (const init of this.spec.initContainers ?? []) {
      if (isSidecar(init)) {
        await this.startContainer(init.name, init);
        await this.untilStarted(init.name);
        continue;
      }
      const result = await this.exec(init, init.command ?? [], 'init');
      if (result.code !== 0) throw new Error(`init container ${init.name} failed (${result.code}): ${result.stderr}`);
    }
    for (const spec of this.spec.containers) await this.startContainer(spec.name, spec);
  }

  async startContainer(name: string, spec = this.state(name).spec): Promise<void> {
    const state = this.containers.get(name) ?? { spec, sidecar: isSidecar(spec), hooks: new Set<ChildProcess>(), probes: [], restarts: -1, running: false, started: false };
    state.restarts++;
    state.running = false;
    state.started = false;
    this.containers.set(name, state);
    const log = openSync(this.files.logFile(name), 'a');
    const image = this.files.image(spec);
    const argv = this.options.entrypoint(spec, this.ports) ?? [...(spec.command ?? image.entrypoint ?? []), ...(spec.args ?? [])].map((arg) => this.mapValue(spec, arg));
    const [file = '', ...args] = argv;
    const process = spawn(file, args, { env: this.env(spec), stdio: ['ignore', log, log], cwd: image.root });
    closeSync(log);
    state.process = process;
    state.exited = new Promise((resolve) =>
      process.once('exit', (code, signal) => {
        state.running = false;
        for (const probe of state.probes) probe.stop();
        this.record(name, 'exited', `${code ?? signal}`);
        resolve();
      }),
    );
    this.record(name, 'started', `restart ${state.restarts}`);
    const postStart = spec.lifecycle?.postStart;
    const failure = postStart ? await this.runHandler(spec, postStart, 'postStart') : undefined;
    if (failure !== undefined) {
      this.record(name, 'FailedPostStartHook', failure);
      await this.killContainer(name, 'FailedPostStartHook');
      return;
    }
    state.running = true;
    this.record(name, 'running');
    this.startProbes(state);
  }

  /** Runs a container's exec hook once more, as an at-least-once delivery would. */
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
    await Promise.all([...this.containers.keys()].map((name) => this.killContainer(name, 'Killing', gracePeriodSeconds * 1000, true)));
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
    return readFileSync(this.files.logFile(name), 'utf8');
  }

  /** Files written into the pod's image volumes: each a write a real runtime would have refused (read-only mount). */
  imageVolumeChanges(): string[] {
    return this.files.imageVolumeChanges();
  }

  /** The pod's own folder on this machine (its volumes and logs), e.g. to show that nothing was copied into it. */
  get folder(): string {
    return this.files.root;
  }

  at(type: string, container?: string): number | undefined {
    return this.events.find((event) => event.type === type && (!container || event.container === container))?.at;
  }

  /** Resolves once an event of this type has happened, so a test can act at that step (e.g. while a hook runs). */
  async until(type: string, container?: string, after = 0): Promise<number> {
    for (;;) {
      const at = this.events.find((event) => event.type === type && (!container || event.container === container) && event.at >= after)?.at;
      if (at !== undefined) return at;
      await sleep(5);
    }
  }

  async cleanup(): Promise<void> {
    for (const state of this.containers.values()) {
      for (const probe of state.probes) probe.stop();
      for (const hook of state.hooks) hook.kill('SIGKILL');
      state.process?.kill('SIGKILL');
      await state.exited;
    }
    this.files.remove();
  }

  private async untilStarted(name: string): Promise<void> {
    const state = this.state(name);
    while (!state.started) {
      if (!state.process || state.process.exitCode !== null || state.process.signalCode !== null) throw new Error(`native sidecar ${name} exited before it started`);
      await sleep(5);
    }
  }

  private startProbes(state: ContainerState): void {
    const name = state.spec.name;
    const send = (action: HttpGetAction, timeoutMs: number) => this.kubeletRequest(state.spec, action, 'probe', timeoutMs);
    const readiness = state.spec.readinessProbe && new ProbeWorker('readiness', state.spec.readinessProbe, send, (result, answer) => {
      this.record(name, `readiness:${result}`, answer.error ?? String(answer.status));
      this.updateReady();
    });
    const onStarted = () => {
      state.started = true;
      this.record(name, 'container-started');
      readiness?.start();
      this.updateReady();
    };
    state.probes = readiness ? [readiness] : [];
    if (!state.spec.startupProbe) return onStarted();
    const startup = new ProbeWorker('startup', state.spec.startupProbe, send, (result, answer) => {
      this.record(name, `startup:${result}`, answer.error ?? String(answer.status));
      // A failed startup probe gets the container killed and restarted: not needed by the scenarios, so it is loud.
      if (result === 'failure') throw new Error(`startup probe of ${name} failed: the restart that follows is not modelled`);
      onStarted();
    });
    state.probes.push(startup);
    startup.start();
  }

  private updateReady(): void {
    const ready = this.ready;
    if (ready === this.wasReady) return;
    this.wasReady = ready;
    this.record('pod', ready ? 'Ready' : 'NotReady');
  }

  private async killContainer(name: string, reason: string, graceMs = this.graceMs, wholePod = false): Promise<void> {
    const state = this.state(name);
    const started = performance.now();
    this.record(name, 'killing', reason);
    const preStop = state.spec.lifecycle?.preStop;
    // killContainer runs preStop only "if there is enough time to run it": gracePeriod > 0 (PR #49449).
    if (preStop && graceMs > 0) {
      // executePreStopHook waits for the hook or the grace period, whichever comes first. (The kubelet counts the
      // time it took in whole seconds, rounding down, so a real node may leave up to 1 s more: this is stricter.)
      await within(this.runHandler(state.spec, preStop, 'preStop'), graceMs);
    }
    // A native sidecar's turn (waitForTurn): after every app container and every sidecar declared after it.
    if (wholePod && state.sidecar && graceMs > 0) {
      const later = [...this.containers.values()].filter((other) => !other.sidecar || this.declaredAfter(other.spec.name, name));
      await within(Promise.all(later.map((other) => other.exited ?? Promise.resolve())), Math.max(graceMs - (performance.now() - started), 0));
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

  private declaredAfter(other: string, sidecar: string): boolean {
    const names = (this.spec.initContainers ?? []).map((spec) => spec.name);
    return names.indexOf(other) > names.indexOf(sidecar);
  }

  /** A lifecycle handler; resolves to undefined when it succeeded, else to why it failed. */
  private async runHandler(spec: ContainerSpec, handler: LifecycleHandler, what: string): Promise<string | undefined> {
    if (handler.exec) {
      const result = await this.exec(spec, handler.exec.command, what);
      return result.code === 0 ? undefined : (result.stderr.trimEnd().split('\n').at(-1) ?? `exit ${result.code}`);
    }
    if (!handler.httpGet) throw new Error(`${spec.name}: only exec and httpGet ${what} handlers are modelled`);
    this.record(spec.name, `${what}:started`, `GET ${handler.httpGet.path ?? '/'}`);
    const answer = await this.kubeletRequest(spec, handler.httpGet, 'lifecycle');
    this.record(spec.name, `${what}:exited`, answer.error ?? String(answer.status));
    return answer.error;
  }

  /** The kubelet's GET to the pod, from the node's address; a named port is the container's own. */
  private kubeletRequest(spec: ContainerSpec, action: HttpGetAction, purpose: 'probe' | 'lifecycle', timeoutMs?: number): Promise<KubeletAnswer> {
    const containerPort = typeof action.port === 'number' ? action.port : spec.ports?.find((port) => port.name === action.port)?.containerPort;
    if (containerPort === undefined) throw new Error(`${spec.name}: no port named ${action.port}`);
    return kubeletGet(action, { address: POD_ADDRESS, port: this.port(containerPort), localAddress: this.facts.hostIps[0] ?? NODE_ADDRESS, purpose, timeoutMs });
  }

  private exec(spec: ContainerSpec, command: string[], what: string): Promise<ExecResult> {
    const [file = '', ...args] = command.map((arg) => this.mapValue(spec, arg));
    const state = this.containers.get(spec.name);
    this.record(spec.name, `${what}:started`, file);
    // A runtime's exec of a file on a noexec mount fails like a missing one: the process never starts.
    const child = spawn(this.files.noexec(file) ? join(file, 'noexec') : file, args, { env: this.env(spec), stdio: ['ignore', 'pipe', 'pipe'], shell: false, cwd: this.files.image(spec).root });
    state?.hooks.add(child);
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
    const image = this.files.image(spec);
    const path = image.node ? `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin` : join(image.root, 'bin');
    // The container's own temp folder, kept across restarts in the pod (as an emptyDir at /tmp would be).
    const tmp = join(this.files.root, 'tmp', spec.name);
    mkdirSync(tmp, { recursive: true });
    return { PATH: path, HOSTNAME: this.facts.name, TMPDIR: tmp, ...mapped };
  }

  private mapValue(spec: ContainerSpec, value: string): string {
    const rewritten = mapPorts((this.options.rewrites ?? []).reduce((text, [from, to]) => text.replaceAll(from, to), value), this.ports);
    return rewritten.startsWith('/') ? this.files.mapPath(spec, rewritten) : rewritten;
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

const isSidecar = (spec: ContainerSpec): boolean => spec.restartPolicy === 'Always';

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
