/**
 * The controller's part of `npm run bench` (issue "cmdb-hook controller", section Bench). The Kubernetes API stand-in
 * (HTTPS) and the sandbox CMDB run in this process; the controller is the built program in its own process
 * (node --lite-mode dist/cmdb-hook.cjs controller, which loads dist/cmdb-hook-cluster.cjs), started as its Deployment starts it
 * (whose single executable takes --node-options=--lite-mode).
 *   1. initial sync: 2,000 Ready pods, no records, the CMDB limited to 200 requests/s (429 + Retry-After: 1 beyond),
 *      --cmdb-rate 200 --cmdb-concurrency 16: spawn to the 2,000th record accepted, against 2000 / 200 = 10 s;
 *   2. restart with 10,000 pods in sync (records written by a first run): writes by the next start, time to /readyz;
 *   3. steady state: a pod turns Ready -> its record accepted, over 100 pods one at a time, CMDB unthrottled; again
 *      beside the 10,000 pods of 2 (100 more pods, not Ready until then, turned Ready after the last restart);
 *   4. peak RSS (VmHWM) with the 10,000 pods (~7.3 KB each, managedFields included) in the cache.
 * Run alone: node bench/controller.ts (needs npm run build:bundle).
 */
import { copyFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startScene, type Scene } from '../test/support/controller/controller-run.ts';
import { makeCertificates } from '../test/support/certificates.ts';
import { startSandboxCmdb } from '../test/support/sandbox-cmdb.ts';
import { addPods, countWrites, leading, nthRecordAt, processUsage, readyAfter, turnReady, until } from './controller-scene.ts';
import { measure, percentile, round, sleep, summarize, type Summary } from './measure.ts';
import { BUNDLE, NODE, pod } from './waiters.ts';

const RUNS = Number(process.env.BENCH_CONTROLLER_RUNS ?? 3);
const certificates = makeCertificates();
const scene = (rateLimit?: number) => startScene({ api: { certificates }, ...(rateLimit ? { cmdb: { rateLimit } } : {}) });
const log = (text: string) => console.log(text);

/** 1. One initial sync; the figures of its run. */
async function initialSync() {
  const stage = await scene(200);
  try {
    addPods(stage, 2000);
    const started = performance.now();
    const controller = stage.start(['--cmdb-rate', '200', '--cmdb-concurrency', '16'], {}, DEPLOYMENT_V8);
    const done = await until(() => stage.cmdb.records.size >= 2000, 120_000, 20);
    const doneMs = nthRecordAt(stage.cmdb.requests, 2000) - started;
    const firstWriteMs = nthRecordAt(stage.cmdb.requests, 1) - started;
    await sleep(1500); // anything the controller still sends counts too
    const usage = processUsage(controller.child.pid);
    await controller.stop();
    return { done, doneMs: round(doneMs), firstWriteMs: round(firstWriteMs), records: stage.cmdb.records.size, ...countWrites(stage.cmdb.requests), ...usage };
  } finally {
    await stage.close();
  }
}

/** The environment manifests/controller/deployment gives the controller that bears on its memory. */
const DEPLOYMENT_ENV = { MALLOC_ARENA_MAX: '2', MALLOC_MMAP_THRESHOLD_: '131072', MALLOC_TRIM_THRESHOLD_: '131072' };
/** The Deployment's `--node-options=--lite-mode`. */
const DEPLOYMENT_V8 = { v8Flags: ['--lite-mode'] };

/** 2 and 4. 10,000 pods: a first run writes their records, then RUNS restarts find everything in sync. */
async function restart() {
  const stage = await scene();
  try {
    const setupStarted = performance.now();
    addPods(stage, 10_000);
    const later = addPods(stage, 100, false, 10_000);
    const setupMs = performance.now() - setupStarted;
    const started = performance.now();
    const first = stage.start(['--cmdb-rate', '2000', '--cmdb-concurrency', '16'], DEPLOYMENT_ENV, DEPLOYMENT_V8);
    const firstReadyMs = await readyAfter(first, started, 120_000);
    await until(() => stage.cmdb.records.size >= 10_000, 300_000, 50);
    const backfillMs = performance.now() - started;
    await sleep(1000);
    const backfill = { readyMs: round(firstReadyMs), backfillMs: round(backfillMs), records: stage.cmdb.records.size, ...countWrites(stage.cmdb.requests), ...processUsage(first.child.pid) };
    await first.stop();
    const restarts: { readyMs: number; writes: number; peakRssMiB: number; cpuS: number; led: boolean }[] = [];
    let atScale: Awaited<ReturnType<typeof turnReadyOneByOne>> | undefined;
    for (let run = 0; run < RUNS; run++) {
      const before = countWrites(stage.cmdb.requests).writes;
      const since = performance.now();
      const controller = stage.start([], DEPLOYMENT_ENV, DEPLOYMENT_V8);
      const readyMs = await readyAfter(controller, since, 120_000);
      // Count the writes of a leader's full pass, then a little longer: not leading would write nothing anyway.
      const led = await leading(controller, 60_000);
      await sleep(2000);
      restarts.push({ readyMs: round(readyMs), writes: countWrites(stage.cmdb.requests).writes - before, led, ...processUsage(controller.child.pid) });
      if (run === RUNS - 1) atScale = await turnReadyOneByOne(stage, later);
      await controller.stop();
    }
    return { setupMs: round(setupMs), backfill, restarts, atScale, readyMs: summarize(restarts.map((each) => each.readyMs)), writes: Math.max(...restarts.map((each) => each.writes)), peakRssMiB: Math.max(backfill.peakRssMiB, ...restarts.map((each) => each.peakRssMiB)) };
  } finally {
    await stage.close();
  }
}

/** Turns the pods Ready one at a time, at random gaps; latency = record accepted - the pod's status written. */
async function turnReadyOneByOne(stage: Scene, pods: { namespace: string; name: string }[]) {
  const latencies: number[] = [];
  for (const { namespace, name } of pods) {
    await sleep(50 + Math.random() * 150);
    const flipped = performance.now();
    const uid = (stage.api.modifyPod(namespace, name, turnReady).metadata as { uid: string }).uid;
    const path = `/records/${uid}_app`;
    const accepted = () => stage.cmdb.requests.find((entry) => entry.path === path && entry.method === 'PUT' && entry.status > 0 && entry.status < 300);
    if (await until(() => accepted() !== undefined, 10_000, 2)) latencies.push((accepted()?.at ?? Number.NaN) - flipped);
  }
  return { registered: latencies.length, p50: round(percentile(latencies, 50)), p90: round(percentile(latencies, 90)), p99: round(percentile(latencies, 99)), max: round(Math.max(...latencies)) };
}

/** 3. 100 pods turn Ready one at a time, at random gaps; latency = record accepted - the pod's status written. */
async function steadyState() {
  const stage = await scene();
  try {
    const pods = addPods(stage, 100, false);
    const controller = stage.start([], {}, DEPLOYMENT_V8);
    await readyAfter(controller, performance.now(), 60_000);
    await leading(controller, 60_000);
    const latencies = await turnReadyOneByOne(stage, pods);
    const usage = processUsage(controller.child.pid);
    await controller.stop();
    return { ...latencies, ...countWrites(stage.cmdb.requests), ...usage };
  } finally {
    await stage.close();
  }
}

/** The hooks load no controller code: the hooks' bundle deregisters with no cmdb-hook-cluster.cjs beside it. */
async function hooksAlone() {
  const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-bench-alone-'));
  const cmdb = await startSandboxCmdb();
  try {
    copyFileSync(BUNDLE, join(dir, 'cmdb-hook.cjs'));
    const target = pod('00000000-0000-4000-8000-000000000001');
    const sample = await measure([NODE, join(dir, 'cmdb-hook.cjs'), 'deregister', '--cmdb-url', cmdb.url, '--cluster', 'bench', '--container', 'app', '--podinfo-dir', '/nonexistent', '--log-level', 'warn'], target.env);
    const cluster = join(BUNDLE, '..', 'cmdb-hook-cluster.cjs');
    return { exitCode: sample.code, deletes: cmdb.writes().length, hooksBundleKiB: round(statSync(BUNDLE).size / 1024, 0), clusterBundleKiB: round(statSync(cluster).size / 1024, 0) };
  } finally {
    await cmdb.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export interface ControllerResults {
  initialSync: { runs: Awaited<ReturnType<typeof initialSync>>[]; doneMs: Summary; ratio: number; requestsPerRecord: number; duplicates: number };
  restart: Awaited<ReturnType<typeof restart>>;
  steadyState: Awaited<ReturnType<typeof steadyState>>;
  hooksAlone: Awaited<ReturnType<typeof hooksAlone>>;
}

export async function controllerBench(): Promise<ControllerResults> {
  const runs = [];
  for (let run = 0; run < RUNS; run++) runs.push(await initialSync());
  log('6. controller initial sync done');
  const doneMs = summarize(runs.map((each) => each.doneMs));
  const sync = { runs, doneMs, ratio: round(doneMs.p50 / 10_000, 2), requestsPerRecord: round(Math.max(...runs.map((each) => each.writes / Math.max(1, each.records))), 3), duplicates: Math.max(...runs.map((each) => each.duplicates)) };
  const steady = await steadyState();
  log('7. controller steady state done');
  const again = await restart();
  log('8. controller restart with 10,000 pods done');
  return { initialSync: sync, restart: again, steadyState: steady, hooksAlone: await hooksAlone() };
}

/** The budgets of the controller, as bench.ts lists them. */
export function controllerBudgets(results: ControllerResults): { budget: string; value: string; ok: boolean }[] {
  const { initialSync: sync, restart: again, steadyState: steady, hooksAlone: alone } = results;
  return [
    { budget: 'controller initial sync (2,000 records, CMDB at 200/s) <= 1.1x ideal (10 s)', value: `${sync.ratio}x (${sync.doneMs.p50} ms, median of ${sync.doneMs.n})`, ok: sync.ratio <= 1.1 },
    { budget: 'controller initial sync: 1.0 request per record, 0 duplicates', value: `${sync.requestsPerRecord} requests per record, ${sync.duplicates} duplicates`, ok: sync.requestsPerRecord <= 1 && sync.duplicates === 0 },
    { budget: 'controller restart with 10,000 pods in sync: 0 writes', value: `${again.writes} writes (ready in ${again.readyMs.p50} ms)`, ok: again.writes === 0 && again.restarts.every((each) => each.led) },
    { budget: 'controller peak RSS with 10,000 pods <= 150 MiB', value: `${again.peakRssMiB} MiB`, ok: again.peakRssMiB <= 150 },
    { budget: 'controller steady state: every pod turning Ready registered', value: `${steady.registered} of 100 (p50 ${steady.p50}, p99 ${steady.p99} ms)`, ok: steady.registered === 100 },
    { budget: 'hooks run without the controller bundle', value: `deregister exit ${alone.exitCode}, ${alone.deletes} DELETE`, ok: alone.exitCode === 0 && alone.deletes === 1 },
  ];
}

/** The controller's tables for bench/results.md and the README. */
export function controllerLines(results: ControllerResults): string[] {
  const { initialSync: sync, restart: again, steadyState: steady, hooksAlone: alone } = results;
  const runs = sync.runs;
  return [
    `| controller (the built bundle, its own process; stand-in API and sandbox CMDB in the bench's process) | figure | target |`,
    '|---|---|---|',
    `| initial sync: 2,000 Ready pods, no records, CMDB 429 beyond 200 requests/s, --cmdb-rate 200 --cmdb-concurrency 16: spawn to 2,000th record (median of ${runs.length}) | ${sync.doneMs.p50} ms = ${sync.ratio}x the ideal 10 s (runs: ${runs.map((each) => each.doneMs).join(', ')}; first record after ${runs.map((each) => each.firstWriteMs).join(', ')} ms) | <= 1.1x |`,
    `| initial sync: from the first record to the 2,000th (the CMDB's limit is 200/s) | ${runs.map((each) => `${round(each.doneMs - each.firstWriteMs, 0)} ms = ${round((1999 * 1000) / (each.doneMs - each.firstWriteMs), 0)}/s`).join('; ')} | - |`,
    `| initial sync: writes per record, duplicates, 429s | ${sync.requestsPerRecord}, ${sync.duplicates}, ${runs.map((each) => each.limited).join('/')} | 1.0, 0 |`,
    `| restart, 10,000 pods in sync: writes by the new start | ${again.writes} (${again.restarts.length} restarts) | 0 |`,
    `| restart, 10,000 pods: spawn to /readyz 200 (median of ${again.restarts.length}) | ${again.readyMs.p50} ms (runs: ${again.restarts.map((each) => each.readyMs).join(', ')}) | - |`,
    `| peak RSS (VmHWM), 10,000 pods of ~7.3 KB (managedFields ~3.1 KB) in the cache: restarts / first run writing all 10,000 | ${again.restarts.map((each) => each.peakRssMiB).join(', ')} / ${again.backfill.peakRssMiB} MiB | <= 150 MiB |`,
    `| first run, 10,000 records unthrottled (--cmdb-rate 2000 --cmdb-concurrency 16) | ${again.backfill.backfillMs} ms, ${again.backfill.writes} writes, CPU ${again.backfill.cpuS} s | - |`,
    `| steady state: pod turns Ready -> record accepted, 100 pods, defaults, CMDB unthrottled | p50 ${steady.p50}, p90 ${steady.p90}, p99 ${steady.p99}, max ${steady.max} ms (${steady.registered} of 100) | - |`,
    `| the same beside 10,000 pods and records (after the last restart) | p50 ${again.atScale?.p50}, p90 ${again.atScale?.p90}, p99 ${again.atScale?.p99}, max ${again.atScale?.max} ms (${again.atScale?.registered} of 100) | - |`,
    `| hooks' bundle / controller bundle (loaded only by controller) | ${alone.hooksBundleKiB} / ${alone.clusterBundleKiB} KiB; hooks' deregister without the controller bundle: exit ${alone.exitCode} | - |`,
  ];
}

if (import.meta.main) {
  const results = await controllerBench();
  console.log(JSON.stringify(results, null, 2));
  console.log(controllerLines(results).join('\n'));
  for (const entry of controllerBudgets(results)) console.log(`${entry.ok ? 'PASS' : 'MISS'} ${entry.budget}: ${entry.value}`);
}
