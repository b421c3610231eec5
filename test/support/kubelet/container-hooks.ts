/**
 * A container's lifecycle handlers, run as the kubelet runs them (kuberuntime_container.go, lifecycle/handlers.go):
 * - exec: the command exec'd in the container, argv as written (paths mapped), its resolved env, no shell; it fails
 *   on a non-zero exit or when it cannot start (no such file in the image, a noexec mount);
 * - httpGet: the kubelet's own GET to the pod from the node's address (kubelet-http.ts); only a transport error
 *   fails it, whatever the status.
 * Each run is recorded as `<what>:started` (the file exec'd, or `GET <path>`) and `<what>:exited` (the exit code or
 * signal, or the status or error).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname } from 'node:path';
import type { ContainerSpec, LifecycleHandler } from './environment.ts';
import type { HttpGetAction, KubeletAnswer } from './kubelet-http.ts';
import type { PodFiles } from './pod-files.ts';

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** What a handler needs of its pod. */
export interface HookContext {
  files: PodFiles;
  env(spec: ContainerSpec): Record<string, string>;
  mapValue(spec: ContainerSpec, value: string): string;
  record(container: string, type: string, detail?: string): void;
  request(spec: ContainerSpec, action: HttpGetAction, purpose: 'probe' | 'lifecycle'): Promise<KubeletAnswer>;
  /** The container's running hook processes, killed with it. */
  running(container: string): Set<ChildProcess> | undefined;
}

/** Resolves to undefined when the handler succeeded, else to why it failed (what the kubelet's event says). */
export async function runHandler(pod: HookContext, spec: ContainerSpec, handler: LifecycleHandler, what: string): Promise<string | undefined> {
  if (handler.exec) {
    const result = await execIn(pod, spec, handler.exec.command, what);
    return result.code === 0 ? undefined : (result.stderr.trimEnd().split('\n').at(-1) ?? `exit ${result.code}`);
  }
  if (!handler.httpGet) throw new Error(`${spec.name}: only exec and httpGet ${what} handlers are modelled`);
  pod.record(spec.name, `${what}:started`, `GET ${handler.httpGet.path ?? '/'}`);
  const answer = await pod.request(spec, handler.httpGet, 'lifecycle');
  pod.record(spec.name, `${what}:exited`, answer.error ?? String(answer.status));
  return answer.error;
}

export function execIn(pod: HookContext, spec: ContainerSpec, command: string[], what: string): Promise<ExecResult> {
  const [file = '', ...args] = command.map((arg) => pod.mapValue(spec, arg));
  const running = pod.running(spec.name);
  pod.record(spec.name, `${what}:started`, file);
  // The kernel refuses to exec a file on a noexec mount with EACCES: exec'ing its folder fails the same way.
  const child = spawn(pod.files.noexec(file) ? dirname(file) : file, args, { env: pod.env(spec), stdio: ['ignore', 'pipe', 'pipe'], shell: false, cwd: pod.files.image(spec).root });
  running?.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve) => {
    // A command that cannot start (no such file in the image) fails the hook like the runtime's exec would.
    child.on('error', (error) => (stderr += `${error.message}\n`));
    child.on('close', (code, signal) => {
      running?.delete(child);
      pod.record(spec.name, `${what}:exited`, String(code ?? signal));
      resolve({ code, stdout, stderr });
    });
  });
}
