/**
 * Runs the real kubectl against the stand-in: argv as given, no shell, an isolated HOME (so its discovery cache and
 * any user config stay out) and KUBECONFIG, nothing else of this process's environment. KUBECTL (a path) picks another
 * binary; without one, /usr/bin/kubectl.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const KUBECTL = process.env.KUBECTL ?? fileURLToPath(new URL('../../../node_modules/.cache/cmdb-hook/bin/kubectl', import.meta.url));

/** Throws unless the kubectl is in place: a missing tool is a failed test, never a skipped one. */
export function requireKubectl(): void {
  if (!existsSync(KUBECTL)) throw new Error(`kubectl is not at ${KUBECTL}: run npm run provision`);
}

export interface KubectlEnv {
  home: string;
  kubeconfig: string;
}

export interface KubectlRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

function start(args: string[], env: KubectlEnv): ChildProcess {
  return spawn(KUBECTL, args, { env: { HOME: env.home, KUBECONFIG: env.kubeconfig, PATH: '/usr/bin:/bin' }, shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
}

export function kubectl(args: string[], env: KubectlEnv, killAfterMs = 20_000): Promise<KubectlRun> {
  const child = start(args, env);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => child.kill('SIGKILL'), killAfterMs);
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(killer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** A long-running kubectl (get --watch, wait): its output so far, a wait for some output, its end, and a stop. */
export interface KubectlStream {
  output(): string;
  exited: Promise<KubectlRun>;
  waitFor(check: (output: string) => boolean, timeoutMs?: number): Promise<string>;
  stop(): Promise<KubectlRun>;
}

export function kubectlStream(args: string[], env: KubectlEnv): KubectlStream {
  const child = start(args, env);
  let stdout = '';
  let stderr = '';
  const waiters = new Set<() => void>();
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
    for (const wake of waiters) wake();
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const closed = new Promise<KubectlRun>((resolve) => child.on('close', (code) => resolve({ code, stdout, stderr })));
  return {
    output: () => stdout,
    exited: closed,
    waitFor: (check, timeoutMs = 10_000) =>
      new Promise((resolve, reject) => {
        const wake = () => {
          if (!check(stdout)) return;
          cleanup();
          resolve(stdout);
        };
        const timer = setTimeout(() => {
          cleanup();
          reject(new Error(`kubectl ${args.join(' ')}: no expected output within ${timeoutMs} ms; stdout: ${stdout} stderr: ${stderr}`));
        }, timeoutMs);
        const cleanup = () => {
          clearTimeout(timer);
          waiters.delete(wake);
        };
        waiters.add(wake);
        wake();
      }),
    stop: () => {
      child.kill('SIGTERM');
      return closed;
    },
  };
}
