/**
 * One pod, run the way the kubelet runs it, from the rendered manifests (no cluster needed):
 * - volumes (pod-files.ts): downwardAPI, Secret, ConfigMap, emptyDir, and image volumes (image-volume.ts);
 * - init containers run in order, each to completion; a native sidecar (an init container with restartPolicy
 *   Always) is started instead, and the next container starts once it has started: its startupProbe succeeded, or it
 *   has none, its postStart having returned either way (kuberuntime_container.go computeInitContainerActions);
 * - each container: its process (a stand-in for the image's entrypoint, or the image's own) starts, the postStart
 *   handler runs (exec: argv as written, resolved env, no shell; httpGet: kubelet-http.ts) and the container counts
 *   as Running only when it returns; a failing hook kills the container (FailedPostStartHook);
 * - probes (probe-worker.ts); the pod is Ready when every app container and every native sidecar is ready
 *   (kubernetes pkg/kubelet/status/generate.go GenerateContainersReadyCondition; the manifests use no readiness gate);
 * - termination: every container is killed at once under the same grace period (container-kill.ts);
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
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { execIn, runHandler, type ExecResult, type HookContext } from './container-hooks.ts';
import { containerEnv } from './container-env.ts';
import { killContainer, type KillableContainer } from './container-kill.ts';
import { containerReady, startProbes, type ProbedContainer } from './container-probes.ts';
import { podFacts, type ContainerSpec, type PodFacts } from './environment.ts';
import { CURRENT_RUNTIME, type ImageVolumeRuntime } from './image-volume.ts';
import { kubeletGet, type HttpGetAction, type KubeletAnswer } from './kubelet-http.ts';
import { PodEventLog } from './pod-events.ts';
import { PodFiles, type Image, type Volume } from './pod-files.ts';
import { allocatePorts, mapPorts, NODE_ADDRESS, POD_ADDRESS } from './pod-network.ts';
import type { KubeObject } from './render.ts';

export { NODE_ADDRESS, OTHER_POD_ADDRESS, POD_ADDRESS } from './pod-network.ts';
export type { ExecResult } from './container-hooks.ts';
export type { Image } from './pod-files.ts';
export type { PodEvent } from './pod-events.ts';

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

interface ContainerState extends ProbedContainer, KillableContainer {
  sidecar: boolean;
  restarts: number;
}

interface PodSpec {
  containers: ContainerSpec[];
  initContainers?: ContainerSpec[];
  volumes?: Volume[];
  terminationGracePeriodSeconds?: number;
}

export class Pod extends PodEventLog {
  readonly facts: PodFacts;
  readonly spec: PodSpec;
  private readonly files: PodFiles;
  private readonly containers = new Map<string, ContainerState>();
  private ports: Record<number, number> = {};
  private readonly options: PodOptions;
  private wasReady = false;
  private readonly hookContext: HookContext;

  constructor(options: PodOptions) {
    super();
    this.options = options;
    const workload = options.objects.find((object) => `${object.kind}/${object.metadata.name}` === options.workload);
    if (!workload) throw new Error(`no ${options.workload} in the rendered manifests`);
    const template = (workload.spec as { template: { metadata?: { labels?: Record<string, string>; annotations?: Record<string, string> }; spec: PodSpec } }).template;
    this.spec = template.spec;
    this.files = new PodFiles(options.objects, options.images, options.runtime ?? CURRENT_RUNTIME);
    this.hookContext = {
      files: this.files,
      env: (spec) => this.env(spec),
      mapValue: (spec, value) => this.mapValue(spec, value),
      record: (container, type, detail) => this.record(container, type, detail),
      request: (spec, action, purpose) => this.kubeletRequest(spec, action, purpose),
      running: (container) => this.containers.get(container)?.hooks,
    };
    this.facts = podFacts(workload, template.metadata ?? {}, { name: options.name, uid: options.uid ?? randomUUID(), ip: options.ip, hostIp: NODE_ADDRESS });
  }

  get graceMs(): number {
    return (this.spec.terminationGracePeriodSeconds ?? 30) * 1000;
  }

  /** The pod's Ready condition now. */
  get ready(): boolean {
    const wanted = [...(this.spec.initContainers ?? []).filter(isSidecar), ...this.spec.containers];
    return wanted.every((spec) => containerReady(this.containers.get(spec.name)));
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
      const result = await execIn(this.hookContext, init, init.command ?? [], 'init');
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
        // A container that is not running is not ready (UpdatePodStatus), whatever its last probe said.
        this.updateReady();
        resolve();
      }),
    );
    this.record(name, 'started', `restart ${state.restarts}`);
    const postStart = spec.lifecycle?.postStart;
    const failure = postStart ? await runHandler(this.hookContext, spec, postStart, 'postStart') : undefined;
    if (failure !== undefined) {
      this.record(name, 'FailedPostStartHook', failure);
      await this.killContainer(name, 'FailedPostStartHook');
      return;
    }
    state.running = true;
    this.record(name, 'running');
    const send = (action: HttpGetAction, timeoutMs: number) => this.kubeletRequest(state.spec, action, 'probe', timeoutMs);
    startProbes(state, send, (type, detail) => this.record(name, type, detail), () => this.updateReady());
  }

  /** Runs a container's exec hook once more, as an at-least-once delivery would. */
  runHook(name: string, hook: 'postStart' | 'preStop'): Promise<ExecResult> {
    const spec = this.state(name).spec;
    return execIn(this.hookContext, spec, spec.lifecycle?.[hook]?.exec?.command ?? [], hook);
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

  private updateReady(): void {
    const ready = this.ready;
    if (ready === this.wasReady) return;
    this.wasReady = ready;
    this.record('pod', ready ? 'Ready' : 'NotReady');
  }

  private async killContainer(name: string, reason: string, graceMs = this.graceMs, wholePod = false): Promise<void> {
    const state = this.state(name);
    // A native sidecar's turn (waitForTurn): after every app container and every sidecar declared after it.
    const turnAfter = wholePod && state.sidecar ? [...this.containers.values()].filter((other) => !other.sidecar || this.declaredAfter(other.spec.name, name)) : [];
    await killContainer(this.hookContext, state, reason, graceMs, turnAfter);
  }

  private declaredAfter(other: string, sidecar: string): boolean {
    const names = (this.spec.initContainers ?? []).map((spec) => spec.name);
    return names.indexOf(other) > names.indexOf(sidecar);
  }

  /** The kubelet's GET to the pod, from the node's address; a named port is the container's own. */
  private kubeletRequest(spec: ContainerSpec, action: HttpGetAction, purpose: 'probe' | 'lifecycle', timeoutMs?: number): Promise<KubeletAnswer> {
    const containerPort = typeof action.port === 'number' ? action.port : spec.ports?.find((port) => port.name === action.port)?.containerPort;
    if (containerPort === undefined) throw new Error(`${spec.name}: no port named ${action.port}`);
    return kubeletGet(action, { address: POD_ADDRESS, port: this.port(containerPort), localAddress: this.facts.hostIps[0] ?? NODE_ADDRESS, purpose, timeoutMs });
  }

  /** The container's environment: resolved from the manifests, mapped onto this machine, plus what the runtime adds. */
  private env(spec: ContainerSpec): Record<string, string> {
    return containerEnv(spec, { facts: this.facts, objects: this.options.objects, files: this.files, mapValue: (each, value) => this.mapValue(each, value) });
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
}

const isSidecar = (spec: ContainerSpec): boolean => spec.restartPolicy === 'Always';
