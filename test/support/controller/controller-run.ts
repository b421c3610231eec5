/**
 * A scene for `cmdb-hook controller`: the Kubernetes API stand-in (HTTPS, token, a kubeconfig for it), the sandbox
 * CMDB, and the built program started as a Deployment's container would start it (argv, its env only, SIGTERM to
 * stop). CMDB_HOOK_TEST_BIN swaps in the single executable, as for the hooks.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startKubeApi, type KubeApi, type KubeApiOptions } from '../kube-api/kube-api-stand-in.ts';
import { waitFor } from '../processes.ts';
import { hookCommand } from '../run-hook.ts';
import { startSandboxCmdb, type SandboxCmdb, type SandboxOptions } from '../sandbox-cmdb.ts';

export const CLUSTER = 'scene';
export const SELECTED = { 'cmdb-hook.io/register': 'true' } as const;

export interface ControllerProcess {
  child: ChildProcess;
  /** stdout so far (--dry-run plans). */
  stdout(): string;
  /** stderr so far: JSON log lines, then the summary line. */
  stderr(): string;
  logs(): Record<string, unknown>[];
  /** The address of --listen. */
  listen: string;
  /** GET a path of --listen; status and body. */
  get(path: string): Promise<{ status: number; body: string }>;
  /** Sends SIGTERM (or the signal given) and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
  exited: Promise<number | null>;
}

export interface Scene {
  api: KubeApi;
  cmdb: SandboxCmdb;
  kubeconfig: string;
  dir: string;
  /**
   * Starts the controller (or, with `how.command`, `consume`, which takes no kubeconfig). `how.cmdb: false` leaves
   * out --cmdb-url (a controller with --sink). `how.v8Flags` start the process with V8 flags, as the manifests do
   * (the single executable's `--node-options=`, or node's own arguments before the bundle).
   */
  start(args?: string[], env?: Record<string, string>, how?: { command?: 'controller' | 'consume'; cmdb?: boolean; v8Flags?: string[] }): ControllerProcess;
  close(): Promise<void>;
}

/** A port free now on 127.0.0.1 (--listen refuses port 0: probes need a port known in advance). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function startScene(options: { api?: KubeApiOptions; cmdb?: SandboxOptions } = {}): Promise<Scene> {
  const api = await startKubeApi({ namespaces: ['default', 'shop', 'cmdb-hook'], ...options.api });
  const cmdb = await startSandboxCmdb(options.cmdb);
  const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-controller-'));
  const kubeconfig = api.writeKubeconfig(dir, { namespace: 'cmdb-hook' });
  const running: ControllerProcess[] = [];
  const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
  let next = 0;
  return {
    api,
    cmdb,
    kubeconfig,
    dir,
    start(args = [], env = {}, how = {}) {
      const port = ports[next++ % ports.length] ?? 0;
      const listen = `127.0.0.1:${port}`;
      const [program = '', ...bundle] = hookCommand();
      const v8Flags = how.v8Flags ?? [];
      const prefix = bundle.length > 0 ? [...v8Flags, ...bundle] : v8Flags.length > 0 ? [`--node-options=${v8Flags.join(' ')}`] : [];
      const command = how.command ?? 'controller';
      const cmdbFlags = how.cmdb === false ? [] : ['--cmdb-url', cmdb.url];
      const kubeFlags = command === 'controller' ? ['--kubeconfig', kubeconfig] : [];
      const argv = [...prefix, command, ...kubeFlags, ...cmdbFlags, '--cluster', CLUSTER, '--listen', listen, ...args];
      const child = spawn(program, argv, { stdio: ['ignore', 'pipe', 'pipe'], env: { PATH: process.env.PATH ?? '', POD_NAME: `controller-${next}`, POD_NAMESPACE: 'cmdb-hook', ...env } });
      let stdout = '';
      let stderr = '';
      child.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      const controller: ControllerProcess = {
        child,
        listen,
        exited,
        stdout: () => stdout,
        stderr: () => stderr,
        logs: () => stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>),
        async get(path) {
          const answer = await fetch(`http://${listen}${path}`, { signal: AbortSignal.timeout(5000) });
          return { status: answer.status, body: await answer.text() };
        },
        async stop(signal = 'SIGTERM') {
          if (child.exitCode === null && child.signalCode === null) child.kill(signal);
          return exited;
        },
      };
      running.push(controller);
      return controller;
    },
    async close() {
      for (const each of running) {
        if (each.child.exitCode === null && each.child.signalCode === null) each.child.kill('SIGKILL');
        await each.exited;
      }
      await api.close();
      await cmdb.close();
    },
  };
}

/** Waits until the controller answers /readyz 200 (its first full pass is done). */
export async function untilReady(controller: ControllerProcess, withinMs = 20_000): Promise<boolean> {
  let ready = false;
  const until = performance.now() + withinMs;
  while (!ready && performance.now() < until && controller.child.exitCode === null) {
    ready = await controller.get('/readyz').then((answer) => answer.status === 200, () => false);
    if (!ready) await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return ready;
}

/** The records of the sandbox CMDB, by pod name, with their state. */
export function recordsByPod(cmdb: SandboxCmdb): Map<string, string[]> {
  const byPod = new Map<string, string[]>();
  for (const record of cmdb.records.values()) byPod.set(record.pod.name, [...(byPod.get(record.pod.name) ?? []), record.state]);
  return byPod;
}

export { waitFor };
