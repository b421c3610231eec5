/**
 * Runs the built binary the way the kubelet execs a hook: argv as written in the manifest, the container's env only
 * (Downward API values and settings, no inherited shell env), no shell. CMDB_HOOK_TEST_BIN (a path) swaps in
 * another build of the binary, e.g. the single executable.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const DIST = new URL('../../dist/cmdb-hook.cjs', import.meta.url).pathname;

/** argv[0..] of the hook command: the single executable if given, else the bundle on this (pinned) Node. */
export function hookCommand(): string[] {
  const bin = process.env.CMDB_HOOK_TEST_BIN;
  return bin ? [bin] : [process.execPath, DIST];
}

export interface HookRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  durationMs: number;
  /** The last line on stderr: the human summary. */
  summary: string;
  /** The JSON log lines on stderr. */
  logs: Record<string, unknown>[];
  /** With `watchMemory`: the process's peak resident memory (VmHWM), polled while it ran; 0 otherwise. */
  peakRssMiB: number;
}

export interface RunOptions {
  env?: Record<string, string | undefined>;
  /** A test safety net only: the hook must end by itself long before this. */
  killAfterMs?: number;
  /** Poll /proc/<pid>/status every 10 ms for the peak resident memory (it follows the pid across an exec). */
  watchMemory?: boolean;
}

export function runHook(args: string[], options: RunOptions = {}): Promise<HookRun> {
  return runProcess([...hookCommand(), ...args], options);
}

/** Any command, exec'd the kubelet's way (argv as given, only the given env plus a PATH, no shell). */
export function runProcess(argv: string[], options: RunOptions = {}): Promise<HookRun> {
  const [file, ...rest] = argv;
  const env: Record<string, string> = { PATH: '/usr/bin:/bin' };
  for (const [key, value] of Object.entries(options.env ?? {})) if (value !== undefined) env[key] = value;
  const started = performance.now();
  const child = spawn(file ?? '', rest, { env, shell: false, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const killer = setTimeout(() => child.kill('SIGKILL'), options.killAfterMs ?? 60_000);
  let peakKiB = 0;
  const poll = options.watchMemory
    ? setInterval(() => {
        try {
          const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
          peakKiB = Math.max(peakKiB, Number(hwm?.[1] ?? 0));
        } catch {
          // The process is gone.
        }
      }, 10)
    : undefined;
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      clearTimeout(killer);
      clearInterval(poll);
      const lines = stderr.trimEnd().split('\n');
      resolve({
        code,
        signal,
        stdout,
        stderr,
        durationMs: performance.now() - started,
        summary: lines.at(-1) ?? '',
        logs: lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>),
        peakRssMiB: peakKiB / 1024,
      });
    });
  });
}

export interface PodFixture {
  name?: string;
  namespace?: string;
  uid?: string;
  ip?: string;
  ips?: string;
  nodeName?: string;
  hostIp?: string;
}

/** The Downward API env vars of a pod (what fieldRef would give), with a fresh UID unless one is given. */
export function downwardEnv(pod: PodFixture = {}): Record<string, string> {
  const ip = pod.ip ?? '10.244.3.17';
  return {
    POD_NAME: pod.name ?? 'web-0',
    POD_NAMESPACE: pod.namespace ?? 'shop',
    POD_UID: pod.uid ?? randomUUID(),
    POD_IP: ip,
    POD_IPS: pod.ips ?? ip,
    NODE_NAME: pod.nodeName ?? 'node-a',
    HOST_IP: pod.hostIp ?? '192.0.2.10',
  };
}

/** A temporary podinfo dir holding labels/annotations files with exactly the given text (kubelet format). */
export function podinfoDir(files: { labels?: string; annotations?: string } = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-podinfo-'));
  if (files.labels !== undefined) writeFileSync(join(dir, 'labels'), files.labels);
  if (files.annotations !== undefined) writeFileSync(join(dir, 'annotations'), files.annotations);
  return dir;
}

/** Flags every run needs; a test adds its own after these. */
export function baseFlags(cmdbUrl: string, podinfo: string): string[] {
  return ['--cmdb-url', cmdbUrl, '--cluster', 'test-cluster', '--container', 'app', '--podinfo-dir', podinfo];
}
