/**
 * `npm run bench`: cmdb-hook against what users would use instead (a shell loop with curl, wait-on), on loopback,
 * every comparison inside the same run. Prints medians and p90s, PASS/MISS against the budgets, and writes
 * bench/results.json and bench/results.md. Needs `npm run build` and the executable at /opt/cmdb-hook (done by the
 * npm script). Nothing here is a test: it measures and reports. Parts 6 to 8, the controller's, are bench/controller.ts;
 * the sidecar's idle cost and each mode's cost inside the app container are bench/sidecar.ts; the message queue's
 * (10,000 transitions direct, through NATS, through RabbitMQ) is bench/queue.ts.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDemoApp } from '../test/support/demo-app.ts';
import { startSandboxCmdb, type SandboxCmdb } from '../test/support/sandbox-cmdb.ts';
import { controllerBench, controllerBudgets, controllerLines } from './controller.ts';
import { queueBench, queueLines } from './queue.ts';
import { measure, round, sleep, summarize, type Sample, type Summary } from './measure.ts';
import { sidecarBench, sidecarLines } from './sidecar.ts';
import { BUNDLE, EXECUTABLE, NODE, ROOT, WAITERS, pod, recordFile, waiter, type WaiterName } from './waiters.ts';

const RUNS = Number(process.env.BENCH_RUNS ?? 20);
const TRIALS = Number(process.env.BENCH_TRIALS ?? 30);
const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-bench-'));
const results: Record<string, unknown> = { machine: `${cpus().length} cores, ${cpus()[0]?.model ?? '?'}, Node ${process.versions.node}`, date: new Date().toISOString() };
const log = (text: string) => console.log(text);

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = performance.now() + ms;
  while (!check() && performance.now() < end) await sleep(2);
  return check();
}

/** 1. Cold start: interleaved, after a warm-up, wall / CPU / peak RSS. */
async function coldStart(cmdb: SandboxCmdb) {
  const target = pod(randomUUID());
  const deregister = ['deregister', '--cmdb-url', cmdb.url, '--cluster', 'bench', '--container', 'app', '--podinfo-dir', '/nonexistent', '--log-level', 'warn'];
  const commands: Record<string, string[]> = {
    'node -e 0': [NODE, '-e', '0'],
    'curl -X DELETE': ['curl', '-s', '-o', '/dev/null', '-X', 'DELETE', `${cmdb.url}/${target.id}`],
    'executable --version': [EXECUTABLE, '--version'],
    'bundle --version': [NODE, BUNDLE, '--version'],
    'executable deregister': [EXECUTABLE, ...deregister],
    'executable deregister, --no-lite-mode': [EXECUTABLE, '--node-options=--no-lite-mode', ...deregister],
    'bundle deregister': [NODE, BUNDLE, ...deregister],
  };
  const samples: Record<string, Sample[]> = Object.fromEntries(Object.keys(commands).map((name) => [name, []]));
  for (let round_ = 0; round_ < RUNS + 3; round_++) {
    for (const [name, argv] of Object.entries(commands)) {
      const sample = await measure(argv, target.env);
      if (round_ >= 3) samples[name]?.push(sample);
    }
  }
  const table = Object.fromEntries(Object.entries(samples).map(([name, list]) => [name, {
    wallMs: summarize(list.map((s) => s.wallMs)), cpuMs: summarize(list.map((s) => s.cpuMs)), maxRssMiB: summarize(list.map((s) => s.maxRssMiB)),
  }]));
  return table as Record<string, { wallMs: Summary; cpuMs: Summary; maxRssMiB: Summary }>;
}

/** 2. Readiness detection lag: the readiness endpoint flips at a random moment; lag = PUT received - flip. */
async function readinessLag() {
  const lags: Record<string, number[]> = Object.fromEntries(WAITERS.map((name) => [name, []]));
  for (let trial = 0; trial < TRIALS; trial++) {
    for (const name of WAITERS) {
      const cmdb = await startSandboxCmdb();
      const app = await startDemoApp({ readyAfterMs: 300 + Math.random() * 1200 });
      const target = pod(randomUUID());
      let kill = () => {};
      const run = measure(waiter(name, app.readyUrl, cmdb.url, target, dir), target.env, (k) => (kill = k));
      const landed = await until(() => cmdb.writes().length > 0, 8000);
      if (landed) lags[name]?.push((cmdb.writes()[0]?.at ?? 0) - (app.readyAt() ?? 0));
      kill();
      await run;
      await Promise.all([cmdb.close(), app.close()]);
    }
  }
  return Object.fromEntries(Object.entries(lags).map(([name, list]) => [name, summarize(list)])) as Record<WaiterName, Summary>;
}

/** 3. Cost of waiting: CPU the waiter (with its children) spends while the app takes 10 s to get ready. */
async function waitingCost() {
  const cost = await Promise.all(WAITERS.map(async (name) => {
    const cmdb = await startSandboxCmdb();
    const app = await startDemoApp({ readyAfterMs: 10_000 });
    const target = pod(randomUUID());
    const sample = await measure(waiter(name, app.readyUrl, cmdb.url, target, dir), target.env);
    await Promise.all([cmdb.close(), app.close()]);
    return [name, { cpuMsPerSecond: round(sample.cpuMs / 10), cpuMs: round(sample.cpuMs), peakMiB: round(sample.maxRssMiB), registered: cmdb.records.size }] as const;
  }));
  return Object.fromEntries(cost) as Record<WaiterName, { cpuMsPerSecond: number; cpuMs: number; peakMiB: number; registered: number }>;
}

/** 4. Rollout burst: 100 registers at once against a CMDB that takes 50 requests/s (429 + Retry-After: 1 beyond). */
async function burst() {
  const register = (url: string) => [EXECUTABLE, 'register', '--cmdb-url', url, '--cluster', 'bench', '--container', 'app', '--podinfo-dir', '/nonexistent', '--log-level', 'warn', '--timeout', '60s'];
  // The floors, in the same run: what starting 100 processes costs this machine at all (node -e 0), and 100 shell
  // hooks that PUT with curl and never retry (so some get 429 and are lost: that is the shell line's behaviour).
  const floor = await startAll(() => [NODE, '-e', '0'], undefined);
  const curl = await startAll((target, url) => ['curl', '-s', '-o', '/dev/null', '-X', 'PUT', '-H', 'content-type: application/json', '--data', `@${recordFile(dir, target)}`, `${url}/${target.id}`], 50);
  const agent = await startAll((_target, url) => register(url), 50);
  const ratio = round(agent.allDoneMs / 2000, 2);
  return { ...agent, idealMs: 2000, ratio, floors: { 'node -e 0 x100': round(floor.allDoneMs), 'curl PUT x100 (no retry)': { ms: round(curl.allDoneMs), registered: curl.registered } } };
}

/** Starts 100 copies of a command at once; resolves when the CMDB holds 100 records (or all exited) with the counts. */
async function startAll(argvOf: (target: ReturnType<typeof pod>, url: string) => string[], rateLimit: number | undefined) {
  const cmdb = await startSandboxCmdb(rateLimit ? { rateLimit } : {});
  const started = performance.now();
  const runs = Array.from({ length: 100 }, () => {
    const target = pod(randomUUID());
    return measure(argvOf(target, cmdb.url), target.env);
  });
  let exited = false;
  void Promise.all(runs).then(() => (exited = true));
  await until(() => cmdb.records.size >= 100 || exited, 60_000);
  const allDoneMs = performance.now() - started;
  await Promise.all(runs);
  const writes = cmdb.writes().length;
  await cmdb.close();
  const uids = [...cmdb.records.values()].map((record) => record.pod.uid);
  return { allDoneMs: round(allDoneMs), registered: cmdb.records.size, missing: 100 - cmdb.records.size, duplicates: uids.length - new Set(uids).size, requestsPerRegistration: round(writes / Math.max(1, cmdb.records.size), 2) };
}

/** 5. Deadline precision: deregister --timeout 3s against a CMDB that accepts and never answers. */
async function deadline() {
  const cmdb = await startSandboxCmdb();
  cmdb.injectFault({ hang: true, times: 1000 });
  const overshoots: number[] = [];
  for (let run = 0; run < 10; run++) {
    const target = pod(randomUUID());
    const sample = await measure([EXECUTABLE, 'deregister', '--cmdb-url', cmdb.url, '--cluster', 'bench', '--container', 'app', '--podinfo-dir', '/nonexistent', '--log-level', 'warn', '--timeout', '3s'], target.env);
    overshoots.push(sample.wallMs - 3000);
  }
  await cmdb.close();
  return { overshootMs: summarize(overshoots), maxMs: round(Math.max(...overshoots)) };
}

const verdict = (ok: boolean) => (ok ? 'PASS' : 'MISS');

try {
  const cmdb = await startSandboxCmdb();
  log(`cmdb-hook bench: ${results.machine as string}; ${RUNS} runs, ${TRIALS} trials`);
  const cold = await coldStart(cmdb);
  await cmdb.close();
  log('1. cold start done');
  const lag = await readinessLag();
  log('2. readiness lag done');
  const cost = await waitingCost();
  log('3. waiting cost done');
  const rollout = await burst();
  log('4. burst done');
  const precision = await deadline();
  log('5. deadline done');
  const controller = await controllerBench();
  const sidecar = await sidecarBench();
  const queue = await queueBench(log);

  const base = cold['node -e 0'];
  const dereg = cold['executable deregister'];
  const bestShell = Math.min(lag['shell loop, sleep 1'].p50, lag['shell loop, sleep 0.1'].p50);
  const budgets = [
    { budget: 'lag p50 <= 30 ms', value: `${lag['cmdb-hook (defaults)'].p50} ms`, ok: lag['cmdb-hook (defaults)'].p50 <= 30 },
    { budget: 'lag p90 <= 60 ms', value: `${lag['cmdb-hook (defaults)'].p90} ms`, ok: lag['cmdb-hook (defaults)'].p90 <= 60 },
    { budget: 'lag p50 below the best shell loop', value: `${lag['cmdb-hook (defaults)'].p50} vs ${bestShell} ms`, ok: lag['cmdb-hook (defaults)'].p50 < bestShell },
    { budget: 'waiting CPU <= sleep 0.1 loop', value: `${cost['cmdb-hook (defaults)'].cpuMsPerSecond} vs ${cost['shell loop, sleep 0.1'].cpuMsPerSecond} ms/s`, ok: cost['cmdb-hook (defaults)'].cpuMsPerSecond <= cost['shell loop, sleep 0.1'].cpuMsPerSecond },
    { budget: 'deregister wall <= 2.5x node -e 0', value: `${round((dereg?.wallMs.p50 ?? 0) / (base?.wallMs.p50 ?? 1), 2)}x`, ok: (dereg?.wallMs.p50 ?? 0) <= 2.5 * (base?.wallMs.p50 ?? 0) },
    { budget: 'deregister peak RSS <= 1.3x node -e 0', value: `${round((dereg?.maxRssMiB.p50 ?? 0) / (base?.maxRssMiB.p50 ?? 1), 2)}x`, ok: (dereg?.maxRssMiB.p50 ?? 0) <= 1.3 * (base?.maxRssMiB.p50 ?? 0) },
    { budget: 'burst: all 100, 0 duplicates', value: `${rollout.registered} registered, ${rollout.duplicates} duplicates`, ok: rollout.registered === 100 && rollout.duplicates === 0 },
    { budget: 'burst: completion <= 1.3x ideal', value: `${rollout.ratio}x (${rollout.allDoneMs} ms; 100 x node -e 0 alone: ${rollout.floors['node -e 0 x100']} ms)`, ok: rollout.ratio <= 1.3 },
    { budget: 'burst: <= 2.0 requests per registration', value: `${rollout.requestsPerRegistration}`, ok: rollout.requestsPerRegistration <= 2 },
    { budget: 'deadline overshoot <= 250 ms', value: `p50 ${precision.overshootMs.p50}, max ${precision.maxMs} ms`, ok: precision.maxMs <= 250 },
    ...controllerBudgets(controller),
  ].map((entry) => ({ ...entry, verdict: verdict(entry.ok) }));
  Object.assign(results, { coldStart: cold, readinessLagMs: lag, waitingCost: cost, burst: rollout, deadline: precision, controller, sidecar, queue, budgets });

  const lines = [
    `Machine: ${results.machine as string}; ${results.date as string}. Command: \`npm run bench\`.`,
    '',
    '| cold start (median of ' + RUNS + ') | wall ms | CPU ms | peak RSS MiB |',
    '|---|---|---|---|',
    ...Object.entries(cold).map(([name, s]) => `| ${name} | ${s.wallMs.p50} (p90 ${s.wallMs.p90}) | ${s.cpuMs.p50} | ${s.maxRssMiB.p50} |`),
    '',
    `| waiter | lag p50 ms | lag p90 ms | CPU ms per s of waiting | peak RSS MiB over a 10 s wait |`,
    '|---|---|---|---|---|',
    ...WAITERS.map((name) => `| ${name} | ${lag[name].p50} | ${lag[name].p90} | ${cost[name].cpuMsPerSecond} | ${cost[name].peakMiB} |`),
    '',
    '| rollout burst: 100 started at once, CMDB at 50 requests/s | until done ms | registered |',
    '|---|---|---|',
    `| cmdb-hook register | ${rollout.allDoneMs} | ${rollout.registered} (${rollout.requestsPerRegistration} requests each) |`,
    `| curl PUT, no retry | ${rollout.floors['curl PUT x100 (no retry)'].ms} | ${rollout.floors['curl PUT x100 (no retry)'].registered} |`,
    `| node -e 0 (start-up alone) | ${rollout.floors['node -e 0 x100']} | - |`,
    '',
    ...controllerLines(controller),
    '',
    ...sidecarLines(sidecar),
    '',
    ...queueLines(queue),
    '',
    '| budget | measured | verdict |',
    '|---|---|---|',
    ...budgets.map((entry) => `| ${entry.budget} | ${entry.value} | ${entry.verdict} |`),
  ];
  writeFileSync(join(ROOT, 'bench', 'results.json'), `${JSON.stringify(results, null, 2)}\n`);
  writeFileSync(join(ROOT, 'bench', 'results.md'), `${lines.join('\n')}\n`);
  log(`\n${lines.join('\n')}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
