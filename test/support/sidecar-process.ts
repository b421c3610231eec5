/**
 * `cmdb-hook sidecar` spawned the way the kubelet starts a container: the built program, argv as in the manifest,
 * the container's env only, no shell. Its endpoints are asked over real sockets from a chosen local address: on
 * Linux the whole of 127.0.0.0/8 is this host's, so a test is "the kubelet" from HOST_IP=127.0.0.3 and "another pod"
 * from 127.0.0.2, while the sidecar trusts only 127.0.0.1 and ::1 of loopback.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { request } from 'node:http';
import { createServer, type AddressInfo } from 'node:net';
import { hookCommand } from './run-hook.ts';

export interface Reply {
  status: number;
  body: string;
}

export interface SidecarProcess {
  readonly child: ChildProcess;
  readonly port: number;
  stderr(): string;
  /** The JSON log lines so far. */
  logs(): Record<string, unknown>[];
  /** GET a path of its endpoints from `from` (a local address), or the error code when the connection fails. */
  get(path: string, from?: string): Promise<Reply | string>;
  /** Resolves with the exit code (or signal) once the process has ended. */
  readonly ended: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Waits until GET /readyz answers `status`; false when it has not within the time. */
  readyzIs(status: number, withinMs: number): Promise<boolean>;
}

/** A port no one listens on now (the kernel's pick, released). */
export async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

export async function startSidecar(args: string[], env: Record<string, string | undefined>, port?: number): Promise<SidecarProcess> {
  const listen = port ?? (await freePort());
  const [file = '', ...prefix] = hookCommand();
  const childEnv: Record<string, string> = { PATH: '/usr/bin:/bin' };
  for (const [key, value] of Object.entries(env)) if (value !== undefined) childEnv[key] = value;
  const child = spawn(file, [...prefix, 'sidecar', ...args, '--listen', `127.0.0.1:${listen}`], { env: childEnv, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const get = (path: string, from?: string) =>
    new Promise<Reply | string>((resolve) => {
      const req = request({ host: '127.0.0.1', port: listen, path, localAddress: from, agent: false, timeout: 30_000 }, (res) => {
        let body = '';
        res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
      req.end();
    });
  const sidecar: SidecarProcess = {
    child,
    port: listen,
    stderr: () => stderr,
    logs: () => stderr.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>),
    get,
    ended,
    async readyzIs(status, withinMs) {
      const until = performance.now() + withinMs;
      while (performance.now() < until) {
        const last = await get('/readyz');
        if (typeof last !== 'string' && last.status === status) return true;
        await new Promise((resolve) => setTimeout(resolve, 25));
      }
      return false;
    },
  };
  return sidecar;
}

/** Ends a sidecar a test left running (SIGKILL: a test that failed half-way). */
export function stopSidecar(sidecar: SidecarProcess): Promise<unknown> {
  if (sidecar.child.exitCode === null && sidecar.child.signalCode === null) sidecar.child.kill('SIGKILL');
  return sidecar.ended;
}
