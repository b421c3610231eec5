/**
 * `cmdb-hook controller`: list+watch the selected pods, keep the CMDB's records of the cluster converged with them
 * (reconciler.ts), write as the leader only (a Lease), and tell what happened in logs, Events and metrics.
 * `--once` runs one full pass and ends; `--dry-run` prints each pass's plan and writes nothing. A long-running
 * controller has no deadline: SIGTERM or SIGINT stop it (the Lease is released, Events flushed).
 */
import type { CmdbBackend } from '../cmdb/backend.ts';
import type { ControllerConfig } from '../config/controller-config.ts';
import { CmdbUnavailableError, ConfigError, KubeUnavailableError, type HookError } from '../errors.ts';
import type { Outcome, RunContext } from '../run-context.ts';
import { settingName } from '../settings/option.ts';
import { formatDuration } from '../settings/duration.ts';
import { createRegistry } from '../serve/metrics.ts';
import { tuneHeap } from './heap-tuning.ts';
import { controllerMetrics } from './controller-metrics.ts';
import { createCmdbWriter } from './cmdb-writer.ts';
import type { ControllerSink, SinkWriter } from './controller-sink.ts';
import { createKubeClient } from './kube/api-client.ts';
import { createEventRecorder } from './kube/events.ts';
import { loadKubeConnection } from './kube/kube-config.ts';
import { listWatchPods } from './kube/list-watch.ts';
import { slimPod } from './kube/slim-pod.ts';
import { listProblemJudge } from './pod-list-problems.ts';
import { listRecords } from './record-listing.ts';
import { createReadinessGate, type ReadinessGate } from './readiness-gate.ts';
import { Reconciler } from './reconciler.ts';
import { runLongLived } from './long-lived.ts';
import { createWindowLimiter } from './rate-limiter.ts';

/** The CMDB side, configured by the command (src/commands/controller.ts) in the hooks' bundle. */
export interface ControllerCmdb {
  kind: string;
  open(): CmdbBackend;
  requestTimeoutMs: number;
}

/** A listing of the CMDB may take this long, retries included, before the pass counts as failed. */
const LISTING_MS = 5 * 60_000;

/** `target`: the CMDB, written directly, or a sink (a broker) that consumers take the transitions from. */
export async function runController(config: ControllerConfig, target: ControllerCmdb | ControllerSink, context: RunContext): Promise<Outcome> {
  tuneHeap();
  const sink = 'writer' in target ? target : undefined;
  // With a sink, nothing opens the CMDB.
  const cmdb = sink ? undefined : (target as ControllerCmdb);
  const { log } = context;
  context.subject = `cluster ${config.cluster}`;
  const stopping = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, `${signal}: stopping`);
    stopping.abort();
  };
  process.once('SIGTERM', onSignal).once('SIGINT', onSignal);
  const stop = AbortSignal.any([stopping.signal, context.deadline.signal]);

  let backend: CmdbBackend | undefined = cmdb?.open();
  if (cmdb && !backend?.list) throw new ConfigError(`${settingName('cmdb-kind')} ${cmdb.kind} cannot list its records, which the controller compares with the pods; give the template a "list" step, or use another kind`);
  const connection = loadKubeConnection({ kubeconfig: config.kubeconfig, env: context.env });
  log.info({ kube: connection.describe() }, `watching pods with ${config.selector ? `selector ${config.selector}` : 'any labels'} in ${config.namespaces.length > 0 ? config.namespaces.join(', ') : 'every namespace'}`);
  const client = createKubeClient(connection, { userAgentSuffix: 'controller' });
  const registry = createRegistry({ processMetrics: !config.once });
  let writer: SinkWriter | undefined;
  let gate: ReadinessGate | undefined;
  // One limiter for every CMDB request of this process, writes and listings: a listing's requests beside a window of
  // writes were one 429 each from a CMDB limited to --cmdb-rate (npm run bench: 2 per 2,000-record sync).
  const cmdbLimiter = createWindowLimiter({ ratePerSecond: config.cmdbRate });
  const reconciler: Reconciler = new Reconciler({
    config,
    log,
    print: (text) => {
      // A --dry-run prints its plans for a reader: with the reader gone (`| head`), it stops as on SIGTERM.
      if (!context.print(text.replace(/\n$/, '')) && !stopping.signal.aborted) stopping.abort();
    },
    comparable: (record) => (backend?.comparable ? backend.comparable(record) : record),
    listRecords: async () => {
      if (!cmdb) return (sink as ControllerSink).listRecords();
      // Opened again for each listing: a rotated token or password file is read anew.
      backend = cmdb.open();
      const listing = await listRecords(backend, { cluster: config.cluster, signal: stop, log, attemptTimeoutMs: cmdb.requestTimeoutMs, withinMs: Math.min(LISTING_MS, context.deadline.remaining()), limiter: cmdbLimiter });
      return listing.records;
    },
    onPodState: (pod, registered) => gate?.update(pod, registered),
    onPodGone: (uid) => gate?.forget(uid),
    onPass(plan, _records, kept) {
      if (writer && sink?.inventory && !config.dryRun) sink.inventory(kept, stop);
      const count = (kind: string) => plan.actions.filter((action) => action.kind === kind).length;
      for (const kind of ['create', 'update', 'retire']) metrics.planned.set({ action: kind }, count(kind));
      metrics.waiting.set(plan.waiting);
      metrics.capped.set(plan.capped);
      metrics.retireBlocked.set(plan.retireBlocked ? 1 : 0);
    },
  });
  const metrics = controllerMetrics(registry, { queue: () => writer?.queue.counts(), pods: () => reconciler.podCount, records: () => reconciler.recordCount, gatesPending: () => gate?.pending() ?? 0 });
  const events = config.dryRun ? undefined : createEventRecorder({ client, onDrop: (why) => metrics.eventsDropped.inc({ why }) });
  const startWriting = (signal: AbortSignal) => {
    if (config.dryRun) return;
    writer = !cmdb ? (sink as ControllerSink).writer({ client, signal, log, metrics, onWritten: (action, removed) => reconciler.written(action, removed) }) : createCmdbWriter({
      backend: () => backend as CmdbBackend,
      client,
      deregisterAction: config.deregisterAction,
      concurrency: config.cmdbConcurrency,
      ratePerSecond: config.cmdbRate,
      limiter: cmdbLimiter,
      attemptTimeoutMs: cmdb.requestTimeoutMs,
      signal,
      log,
      metrics,
      events,
      onWritten: (action, removed) => reconciler.written(action, removed),
    });
    // The gate, like the writes, belongs to the leader; it ends with the same signal.
    if (config.readinessGate) {
      gate = createReadinessGate({ client, strict: config.gateStrict, gateTimeoutMs: config.gateTimeoutMs, signal, log, onSet: (pod, condition) => metrics.gatesSet.inc({ reason: condition.reason ?? '' }) });
    }
    reconciler.setWriter(writer);
  };
  const stopWriting = () => {
    reconciler.setWriter(undefined);
    gate = undefined;
  };

  const watching = new AbortController();
  const listProblems = listProblemJudge({ once: config.once, selector: config.selector });
  // A list failure that asking again will not mend (pod-list-problems.ts) ends the run with its own error.
  let fatal: HookError | undefined;
  reconciler.start();
  // Started before the pods' list: the Lease's requests then go out ahead of the list's pages, whose parsing (500
  // pods, a few MB of JSON each) held leadership, and so the first write, back by ~200 ms (npm run bench).
  const running = config.once
    ? runOnce(config, reconciler, startWriting, () => writer, stop, watching, () => listProblems.last)
    : runLongLived({ config, client, connection, context, reconciler, registry, metrics, stop, startWriting, stopWriting, env: context.env });
  // Settled in the finally below, after the watch has started either way.
  running.catch(() => undefined);
  const watch = listWatchPods(
    {
      client,
      namespaces: config.namespaces,
      labelSelector: config.selector || undefined,
      transform: slimPod,
      signal: AbortSignal.any([stop, watching.signal]),
      onProblem(problem) {
        metrics.watchProblems.inc({ action: problem.action, kind: problem.forbidden ? 'forbidden' : problem.stalled ? 'stalled' : 'error' });
        const where = problem.scope === '*' ? 'every namespace' : `namespace ${problem.scope}`;
        if (problem.forbidden) log.error({ err: problem.error, scope: problem.scope }, `may not ${problem.action} pods in ${where} (403): its records are never retired; grant pods get/list/watch there or narrow --namespace`);
        else if (listProblems.refused(problem)) log.error({ err: problem.error, scope: problem.scope, retryInMs: problem.retryInMs }, `${problem.action} of pods in ${where} refused; trying again`);
        else log.warn({ err: problem.error, scope: problem.scope, retryInMs: problem.retryInMs }, `${problem.action} of pods in ${where} failed; trying again`);
        const ends = listProblems.judge(problem);
        if (ends && !fatal) {
          fatal = ends;
          stopping.abort();
        }
      },
    },
    {
      page: (pods) => {
        listProblems.accepted();
        reconciler.page(pods);
      },
      synced: (pods, info) => {
        listProblems.accepted();
        metrics.notListable.set(info.notListable.length);
        reconciler.synced(pods, info);
      },
      added: (pod) => reconciler.added(pod),
      modified: (pod) => reconciler.modified(pod),
      deleted: (pod) => reconciler.deleted(pod),
    },
  );

  try {
    const outcome = await running.catch((error: unknown) => {
      throw fatal ?? error;
    });
    if (fatal) throw fatal;
    return outcome;
  } finally {
    watching.abort();
    stopping.abort();
    await watch;
    await events?.flush(AbortSignal.timeout(2_000));
    client.close();
    process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
  }
}

/** One pass: the pods listed once, the CMDB listed once, the plan applied; then the watch stops. */
async function runOnce(config: ControllerConfig, reconciler: Reconciler, startWriting: (signal: AbortSignal) => void, writer: () => SinkWriter | undefined, stop: AbortSignal, watching: AbortController, lastListProblem: () => string | undefined): Promise<Outcome> {
  const started = performance.now();
  const aborted = new Promise<void>((resolve) => stop.addEventListener('abort', () => resolve(), { once: true }));
  await Promise.race([reconciler.podsSeen, aborted]);
  watching.abort();
  if (stop.aborted) {
    const last = lastListProblem();
    throw new KubeUnavailableError(`stopped before the pods were listed${last ? ` (the last try: ${last})` : ''}`);
  }
  startWriting(stop);
  let plan;
  try {
    plan = await reconciler.fullPass();
  } catch (error) {
    // A refused or unreachable listing is a failed run (5), like a failed write: a CronJob must see it.
    if (error instanceof ConfigError || error instanceof CmdbUnavailableError) throw error;
    throw new CmdbUnavailableError(`the CMDB's records could not be listed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  const queue = writer()?.queue;
  await queue?.idle();
  const counts = queue?.counts();
  const actions = `${plan.actions.length} action(s)${plan.retireBlocked ? ', retire blocked (more than half)' : ''}`;
  if (config.dryRun) return { summary: `planned ${actions} in ${formatDuration(performance.now() - started)}; nothing written (--dry-run)` };
  const left = plan.actions.length - (counts?.done ?? 0);
  if (left > 0) throw new CmdbUnavailableError(`${left} of ${actions} not done (${counts?.failed ?? 0} refused, the rest unfinished at the deadline or stop)`);
  return { summary: `${actions} done in ${formatDuration(performance.now() - started)}` };
}
