/**
 * The message queue's part of `npm run bench` (issue "pod lifecycle through a message queue", section Bench): the same
 * 10,000 transitions through the direct controller, through NATS JetStream (controller --sink nats, consume --source
 * nats) and through RabbitMQ (--sink rabbitmq, --source rabbitmq), in one run. The Kubernetes API stand-in and the
 * sandbox CMDB (unthrottled) run in this process, the brokers are real (Debian's nats-server, rabbitmq-server) on
 * loopback, the controller and the consumer are the built program.
 * The transitions: 7,000 Ready pods added, then 3,000 of them deleted (a deletion of more than half the records would
 * be held back by the controller's half rule), paced at PACE per second (default 1,000) in batches of 50. Per transition, the lag runs
 * from the pod change in the stand-in to the CMDB receiving its write (PUT for an added pod, DELETE for a deleted); a
 * registration overtaken by its pod's deletion before it was applied has no write of its own and counts as superseded.
 * Run alone: node bench/queue.ts (needs npm run build:bundle); QUEUE_BENCH_TRANSITIONS and QUEUE_BENCH_PACE (per second)
 * change the count and the pace. At 1,000/s the changes come faster than any path applies them (about 100-130/s on a
 * 2-core machine), so the lag is mostly the backlog; a pace below that measures the path itself.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startNatsServer } from '../test/support/brokers/nats-server.ts';
import { startRabbitMq } from '../test/support/brokers/rabbitmq-server.ts';
import { makeCertificates } from '../test/support/certificates.ts';
import { startScene, type ControllerProcess } from '../test/support/controller/controller-run.ts';
import { addPods, until } from './controller-scene.ts';
import { percentile, round, sleep } from './measure.ts';

const TRANSITIONS = Number(process.env.QUEUE_BENCH_TRANSITIONS ?? 10_000);
const ADDED = Math.round(TRANSITIONS * 0.7);
const DELETED = TRANSITIONS - ADDED;
const PACE = Number(process.env.QUEUE_BENCH_PACE ?? 1000);
const BATCH = 50;
const certificates = makeCertificates();
/** Every process as its manifest starts it: the single executable's `--node-options=--lite-mode` (node's own flag here). */
const LITE = { v8Flags: ['--lite-mode'] };

export interface QueueFigures {
  path: string;
  transitions: number;
  done: boolean;
  lagP50Ms: number;
  lagP99Ms: number;
  /** Transitions per second, from the first change to the last write. */
  throughput: number;
  /** Every request the CMDB received (listings included) per transition. */
  cmdbRequestsPerTransition: number;
  /** Accepted writes beyond the first of each record and method. */
  duplicates: number;
  /** Transitions with no write of their own: a registration whose pod was deleted before it was applied. */
  superseded: number;
}

type Mode = 'direct' | 'nats' | 'rabbitmq';

async function run(mode: Mode): Promise<QueueFigures> {
  const stage = await startScene({ api: { certificates } });
  const nats = mode === 'nats' ? await startNatsServer() : undefined;
  const rabbit = mode === 'rabbitmq' ? await startRabbitMq() : undefined;
  const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-queue-bench-'));
  const running: ControllerProcess[] = [];
  try {
    let broker: string[] = [];
    if (nats) broker = ['--nats-url', nats.url, '--nats-token-file', nats.tokenFile];
    if (rabbit) {
      writeFileSync(join(dir, 'password'), rabbit.password, { mode: 0o600 });
      broker = ['--amqp-url', rabbit.url, '--amqp-password-file', join(dir, 'password')];
    }
    if (mode === 'direct') running.push(stage.start(['--leader-elect=false', '--cmdb-rate', '5000', '--cmdb-concurrency', '16', '--orphan-grace', '0s'], {}, LITE));
    else {
      running.push(stage.start(['--sink', mode, ...broker, '--leader-elect=false', '--orphan-grace', '0s'], {}, { cmdb: false, ...LITE }));
      running.push(stage.start(['--source', mode, ...broker, '--concurrency', '16'], {}, { command: 'consume', ...LITE }));
    }
    for (const each of running) if (!(await until(async () => (await each.get('/readyz').catch(() => ({ status: 0 }))).status === 200, 60_000, 50))) throw new Error(`${mode}: not ready\n${each.stderr()}`);

    const changedAt = new Map<string, number>();
    const key = (method: string, namespace: string, name: string) => `${method} ${stage.api.pod(namespace, name)?.metadata.uid ?? '?'}_app`;
    const first = performance.now();
    const pods: { namespace: string; name: string }[] = [];
    for (let done = 0; done < ADDED; done += BATCH) {
      const batch = addPods(stage, Math.min(BATCH, ADDED - done), true, done);
      const at = performance.now();
      for (const pod of batch) changedAt.set(key('PUT', pod.namespace, pod.name), at);
      pods.push(...batch);
      await sleep(Math.max(0, first + ((done + BATCH) / PACE) * 1000 - performance.now()));
    }
    const deleteFrom = performance.now();
    for (let done = 0; done < DELETED; done += BATCH) {
      for (const pod of pods.slice(done, Math.min(done + BATCH, DELETED))) {
        changedAt.set(key('DELETE', pod.namespace, pod.name), performance.now());
        stage.api.deletePod(pod.namespace, pod.name, 0);
      }
      await sleep(Math.max(0, deleteFrom + ((done + BATCH) / PACE) * 1000 - performance.now()));
    }
    // Done when the CMDB holds exactly the pods left: a registration whose pod was deleted before it was applied is
    // superseded (the consumer applies a record's latest transition; the controller's queue keeps only the latest).
    const kept = new Set(pods.slice(DELETED).map((pod) => `${stage.api.pod(pod.namespace, pod.name)?.metadata.uid ?? '?'}_app`));
    const converged = () => stage.cmdb.records.size === kept.size && [...kept].every((id) => stage.cmdb.records.has(id));
    const writes = () => stage.cmdb.requests.filter((entry) => entry.method !== 'GET' && entry.path.startsWith('/records/'));
    const done = await until(converged, 300_000, 100);
    await sleep(2000); // what still arrives counts too
    const firstWrite = new Map<string, number>();
    let last = first;
    const accepted = writes().filter((entry) => entry.status >= 200 && entry.status < 300);
    for (const entry of writes()) {
      const id = `${entry.method} ${decodeURIComponent(entry.path.slice('/records/'.length))}`;
      if (!firstWrite.has(id)) firstWrite.set(id, entry.at);
      last = Math.max(last, entry.at);
    }
    const lags = [...changedAt].map(([id, at]) => (firstWrite.get(id) ?? Number.NaN) - at).filter((lag) => Number.isFinite(lag));
    return {
      path: mode === 'direct' ? 'direct (controller writes the CMDB)' : mode === 'nats' ? 'NATS JetStream' : 'RabbitMQ',
      transitions: TRANSITIONS,
      done: done && converged(),
      superseded: TRANSITIONS - lags.length,
      lagP50Ms: round(percentile(lags, 50)),
      lagP99Ms: round(percentile(lags, 99)),
      throughput: round(TRANSITIONS / ((last - first) / 1000)),
      cmdbRequestsPerTransition: round(stage.cmdb.requests.length / TRANSITIONS, 3),
      duplicates: accepted.length - new Set(accepted.map((entry) => `${entry.method} ${entry.path}`)).size,
    };
  } finally {
    for (const each of running) await each.stop();
    await stage.close();
    await nats?.dispose();
    await rabbit?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

export async function queueBench(log: (text: string) => void = console.log): Promise<QueueFigures[]> {
  const figures: QueueFigures[] = [];
  for (const mode of ['direct', 'nats', 'rabbitmq'] as const) {
    const started = performance.now();
    figures.push(await run(mode));
    log(`queue bench: ${mode} took ${round((performance.now() - started) / 1000)} s`);
  }
  return figures;
}

export function queueLines(figures: readonly QueueFigures[]): string[] {
  return [
    `| path (${figures[0]?.transitions ?? TRANSITIONS} transitions) | lag p50 | lag p99 | throughput | CMDB requests per transition | duplicate writes | superseded, not written |`,
    '|---|---|---|---|---|---|---|',
    ...figures.map((row) => `| ${row.path}${row.done ? '' : ' (did not converge)'} | ${row.lagP50Ms} ms | ${row.lagP99Ms} ms | ${row.throughput}/s | ${row.cmdbRequestsPerTransition} | ${row.duplicates} | ${row.superseded} |`),
  ];
}

if (import.meta.main) {
  const figures = await queueBench();
  console.log(queueLines(figures).join('\n'));
  console.log(JSON.stringify(figures));
}
