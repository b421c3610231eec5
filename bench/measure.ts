/** Running a command and measuring it: wall time here, CPU and peak RSS from /usr/bin/time (which counts children). */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Sample {
  wallMs: number;
  cpuMs: number;
  maxRssMiB: number;
  code: number | null;
}

if (!existsSync('/usr/bin/time')) throw new Error('npm run bench needs GNU time at /usr/bin/time for CPU and peak RSS: apt-get install time');
const scratch = mkdtempSync(join(tmpdir(), 'cmdb-hook-bench-'));
process.on('exit', () => rmSync(scratch, { recursive: true, force: true }));
let counter = 0;

/** Runs argv under /usr/bin/time; resolves when it exits. `started` fires right after the spawn. */
export function measure(argv: string[], env: Record<string, string> = {}, started?: (kill: () => void) => void): Promise<Sample> {
  const out = join(scratch, `time-${counter++}`);
  const begin = performance.now();
  const child = spawn('/usr/bin/time', ['-f', '%U %S %M', '-o', out, ...argv], { env: { PATH: process.env.PATH ?? '', ...env }, stdio: 'ignore' });
  started?.(() => child.kill('SIGKILL'));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('exit', (code) => {
      const wallMs = performance.now() - begin;
      const [user = 0, system = 0, rss = 0] = readFileSync(out, 'utf8').trim().split('\n').at(-1)?.split(' ').map(Number) ?? [];
      resolve({ wallMs, cpuMs: (user + system) * 1000, maxRssMiB: rss / 1024, code });
    });
  });
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const rank = (p / 100) * (sorted.length - 1);
  const low = Math.floor(rank);
  const high = Math.ceil(rank);
  return (sorted[low] ?? 0) + ((sorted[high] ?? 0) - (sorted[low] ?? 0)) * (rank - low);
}

export interface Summary {
  p50: number;
  p90: number;
  n: number;
}

export function summarize(values: number[]): Summary {
  return { p50: round(percentile(values, 50)), p90: round(percentile(values, 90)), n: values.length };
}

export function round(value: number, digits = 1): number {
  return Math.round(value * 10 ** digits) / 10 ** digits;
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
