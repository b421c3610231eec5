/**
 * The sidecar's part of `npm run bench`: what `cmdb-hook sidecar` costs while it idles beside the app (RSS after
 * 10 s of idling, CPU over the next 30 s, median of RUNS, beside an idle `node` doing nothing in the same run and
 * `node -e 0`'s peak), and what each mode costs inside the app container: exec hooks run the program there at
 * postStart and at preStop (deregister's peak RSS measured here), while the sidecar's app container has an httpGet
 * preStop that the kubelet sends (no process, no byte: the time of GET /deregister is measured instead).
 * The sidecars of a run idle at the same time (idle processes do not disturb each other), against one sandbox CMDB.
 * The single executable, as the manifests run it (V8's lite mode by default). Run alone: node bench/sidecar.ts
 * (needs npm run build and node test/support/place-executable.ts).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { startDemoApp } from '../test/support/demo-app.ts';
import { startSandboxCmdb, type SandboxCmdb } from '../test/support/sandbox-cmdb.ts';
import { freePort } from '../test/support/sidecar-process.ts';
import { measure, round, sleep, summarize, type Summary } from './measure.ts';
import { EXECUTABLE, NODE, pod } from './waiters.ts';

const RUNS = Number(process.env.BENCH_SIDECAR_RUNS ?? 3);
/** The app takes this long to turn ready, as a JVM service might: the sidecar polls it all along. */
const APP_READY_MS = 20_000;
/** The executable's own default (lite mode), and V8's default modes for comparison, in the same run. */
const WITHOUT_LITE = ['--node-options=--no-lite-mode'];
const SETTLE_MS = 10_000;
const IDLE_MS = 30_000;
const TICKS_PER_SECOND = 100; // USER_HZ: /proc/<pid>/stat counts CPU in these on every Linux architecture
const log = (text: string) => console.log(text);

/** Resident memory now, and CPU seconds so far, of one process. */
function usage(pid: number): { rssMiB: number; cpuS: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime
  return { rssMiB: Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) / 1024, cpuS: ticks / TICKS_PER_SECOND };
}

function get(port: number, path: string): Promise<number> {
  return new Promise((resolve) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    }).on('error', () => resolve(0)).end();
  });
}

interface Idle {
  rssMiB: number;
  cpuS: number;
  child: ChildProcess;
  port: number;
}

/** Starts a process, waits for it to be settled (`ready`), idles SETTLE_MS, then measures IDLE_MS of idling. */
async function idle(argv: string[], env: Record<string, string>, port: number, ready: () => Promise<boolean>): Promise<Idle> {
  const [file = '', ...args] = argv;
  const child = spawn(file, args, { env: { PATH: '/usr/bin:/bin', ...env }, stdio: 'ignore' });
  const until = performance.now() + APP_READY_MS + 30_000;
  while (!(await ready()) && performance.now() < until) await sleep(50);
  await sleep(SETTLE_MS);
  const settled = usage(child.pid ?? 0);
  await sleep(IDLE_MS);
  const after = usage(child.pid ?? 0);
  return { rssMiB: settled.rssMiB, cpuS: after.cpuS - settled.cpuS, child, port };
}

async function sidecar(cmdb: SandboxCmdb, readyUrl: string, v8: string[] = []): Promise<Idle & { deregisterMs: number; recorded: boolean }> {
  const port = await freePort();
  const target = pod(randomUUID());
  const argv = [EXECUTABLE, ...v8, 'sidecar', '--cmdb-url', cmdb.url, '--cluster', 'bench', '--container', 'app', '--podinfo-dir', '/nonexistent', '--ready-url', readyUrl, '--listen', `127.0.0.1:${port}`, '--log-level', 'warn'];
  const run = await idle(argv, { ...target.env, HOST_IP: '127.0.0.1' }, port, async () => (await get(port, '/readyz')) === 200);
  const recorded = cmdb.records.has(target.id);
  const started = performance.now();
  await get(port, '/deregister');
  const deregisterMs = performance.now() - started;
  run.child.kill('SIGTERM');
  return { ...run, deregisterMs, recorded };
}

export interface SidecarResults {
  runs: number;
  sidecar: { rssMiB: Summary; cpuS: Summary; recorded: number; deregisterMs: Summary };
  /** The same with --node-options=--no-lite-mode. */
  withoutLite: { rssMiB: Summary; deregisterMs: Summary };
  idleNode: { rssMiB: Summary; cpuS: Summary };
  nodeE0PeakMiB: Summary;
  deregisterHook: { peakMiB: Summary; cpuMs: Summary; wallMs: Summary };
}

export async function sidecarBench(): Promise<SidecarResults> {
  const cmdb = await startSandboxCmdb();
  const app = await startDemoApp({ readyAfterMs: APP_READY_MS });
  try {
    const idleNode = [NODE, '-e', 'setInterval(() => {}, 1 << 30)'];
    const [sidecars, withoutLite, nodes] = await Promise.all([
      Promise.all(Array.from({ length: RUNS }, () => sidecar(cmdb, app.readyUrl))),
      Promise.all(Array.from({ length: RUNS }, () => sidecar(cmdb, app.readyUrl, WITHOUT_LITE))),
      Promise.all(Array.from({ length: RUNS }, () => idle(idleNode, {}, 0, () => Promise.resolve(true)))),
    ]);
    for (const run of nodes) run.child.kill('SIGKILL');
    log('sidecar idle done');
    // The exec hooks' cost in the app container, in the same run: a deregister with the same settings, run alone.
    const target = pod(randomUUID());
    const deregister = [EXECUTABLE, 'deregister', '--cmdb-url', cmdb.url, '--cluster', 'bench', '--container', 'app', '--podinfo-dir', '/nonexistent', '--log-level', 'warn'];
    const hooks = [];
    const bare = [];
    for (let index = 0; index < Math.max(5, RUNS); index++) {
      hooks.push(await measure(deregister, target.env));
      bare.push(await measure([NODE, '-e', '0']));
    }
    return {
      runs: RUNS,
      sidecar: {
        rssMiB: summarize(sidecars.map((run) => run.rssMiB)),
        cpuS: summarize(sidecars.map((run) => run.cpuS)),
        recorded: sidecars.filter((run) => run.recorded).length,
        deregisterMs: summarize(sidecars.map((run) => run.deregisterMs)),
      },
      withoutLite: { rssMiB: summarize(withoutLite.map((run) => run.rssMiB)), deregisterMs: summarize(withoutLite.map((run) => run.deregisterMs)) },
      idleNode: { rssMiB: summarize(nodes.map((run) => run.rssMiB)), cpuS: summarize(nodes.map((run) => run.cpuS)) },
      nodeE0PeakMiB: summarize(bare.map((run) => run.maxRssMiB)),
      deregisterHook: { peakMiB: summarize(hooks.map((run) => run.maxRssMiB)), cpuMs: summarize(hooks.map((run) => run.cpuMs)), wallMs: summarize(hooks.map((run) => run.wallMs)) },
    };
  } finally {
    await Promise.all([cmdb.close(), app.close()]);
  }
}

// The kernel counts CPU in 10 ms ticks: zero means less than one over the whole window.
const cpu = (seconds: number) => (seconds === 0 ? '0 s (under one 10 ms tick)' : `${seconds} s`);

/** The sidecar's tables for bench/results.md and the README. */
export function sidecarLines(results: SidecarResults): string[] {
  const { sidecar: side, withoutLite, idleNode, nodeE0PeakMiB, deregisterHook: hook } = results;
  return [
    `| sidecar (the single executable, as the manifests run it; the app ready after ${APP_READY_MS / 1000} s; median of ${results.runs}) | RSS after ${SETTLE_MS / 1000} s idle | CPU over ${IDLE_MS / 1000} s idle |`,
    '|---|---|---|',
    `| cmdb-hook sidecar (--heartbeat 0s; V8's lite mode, its default) | ${side.rssMiB.p50} MiB | ${cpu(side.cpuS.p50)} |`,
    `| the same with --node-options=--no-lite-mode | ${withoutLite.rssMiB.p50} MiB (${round(side.rssMiB.p50 / withoutLite.rssMiB.p50, 2)}x) | - |`,
    `| node -e 'setInterval(...)' (Node idling, nothing loaded) | ${idleNode.rssMiB.p50} MiB | ${cpu(idleNode.cpuS.p50)} |`,
    '',
    '| inside the app container, per pod lifetime | processes | peak RSS | CPU |',
    '|---|---|---|---|',
    `| exec hooks: register at postStart, deregister at preStop (deregister measured; node -e 0 peaks at ${nodeE0PeakMiB.p50} MiB) | 2 | ${hook.peakMiB.p50} MiB (deregister) | ${hook.cpuMs.p50} ms (deregister) |`,
    `| sidecar, httpGet preStop sent by the kubelet (GET /deregister answered in ${round(side.deregisterMs.p50, 0)} ms; ${round(withoutLite.deregisterMs.p50, 0)} ms without lite mode) | 0 | 0 bytes | 0 |`,
  ];
}

if (import.meta.main) {
  const results = await sidecarBench();
  console.log(JSON.stringify(results, null, 2));
  console.log(sidecarLines(results).join('\n'));
}
