/**
 * The controller as a Deployment: /healthz, /readyz and /metrics on --listen; full passes at start, every --resync
 * and when the reconciler asks; writes only while this replica holds the Lease (or always, with
 * --leader-elect=false). Every replica watches and lists, so /readyz turns 200 on each after its first full pass and a
 * new leader starts from a warm cache. Losing the Lease stops the writes at once (the queue's signal), and the
 * replica goes back to being a candidate. Resolves when `stop` aborts.
 */
import type { Registry } from 'prom-client';
import type { ControllerConfig } from '../config/controller-config.ts';
import { ConfigError } from '../errors.ts';
import type { Outcome, RunContext } from '../run-context.ts';
import { settingName } from '../settings/option.ts';
import { createHeartbeat } from '../serve/heartbeat.ts';
import { startEndpoints } from '../serve/http-endpoints.ts';
import type { ControllerMetrics } from './controller-metrics.ts';
import type { KubeClient } from './kube/api-client.ts';
import type { KubeConnection } from './kube/kube-config.ts';
import { identityFromEnv, runLeaderElection } from './kube/leader-election.ts';
import { createPassScheduler, type PassScheduler } from './pass-scheduler.ts';
import type { Reconciler } from './reconciler.ts';

export interface LongLivedOptions {
  config: ControllerConfig;
  client: KubeClient;
  connection: KubeConnection;
  context: RunContext;
  reconciler: Reconciler;
  registry: Registry;
  metrics: ControllerMetrics;
  stop: AbortSignal;
  env: NodeJS.ProcessEnv;
  startWriting(signal: AbortSignal): void;
  stopWriting(): void;
}

export async function runLongLived(options: LongLivedOptions): Promise<Outcome> {
  const { config, reconciler, metrics, stop, context } = options;
  const { log } = context;
  const leaseNamespace = config.leaseNamespace ?? options.env.POD_NAMESPACE?.trim() ?? options.connection.namespace;
  if (config.leaderElect && !leaseNamespace) throw new ConfigError(`${settingName('leader-election-namespace')} is needed: the kubeconfig's context names no namespace and POD_NAMESPACE is unset`);
  // A pass runs at least every resync; silence well past that means the loop is stuck.
  const heartbeat = createHeartbeat('the controller\'s passes', 2 * config.resyncMs + 60_000);
  let passes = 0;
  const scheduler = createPassScheduler({
    signal: stop,
    async pass(reasons) {
      // Asked for before the pods were listed (leading from the start): the pass that follows the first list does it.
      if (!reconciler.podsListed) return;
      const started = performance.now();
      try {
        const plan = await reconciler.fullPass();
        passes++;
        metrics.passes.inc({ result: 'ok' });
        metrics.lastPass.setToCurrentTime();
        log.info({ reasons, actions: plan.actions.length, waiting: plan.waiting, capped: plan.capped, records: reconciler.recordCount, pods: reconciler.podCount }, `full pass: ${plan.actions.length} action(s)`);
      } catch (error) {
        metrics.passes.inc({ result: 'failed' });
        throw error;
      } finally {
        heartbeat.beat();
        metrics.passSeconds.observe((performance.now() - started) / 1000);
        scheduler.within(config.resyncMs, 'resync');
      }
    },
    onError: (error, retryInMs) => log.error({ err: error, retryInMs }, 'full pass failed; trying again'),
  });
  reconciler.scheduler = scheduler;
  // The pods may have been listed before the scheduler existed: the first pass follows the first list either way.
  void reconciler.podsSeen.then(() => scheduler.within(0, 'pods listed'));

  // The endpoints open while leadership is sought, so the Lease's first request goes out at once.
  const opening = startEndpoints({
    listen: config.listen,
    live: heartbeat.check,
    ready: () => (reconciler.ready ? { ok: true } : { ok: false, reason: 'the first full pass (pods and records listed) has not succeeded yet' }),
    registry: options.registry,
    log,
  }).then((endpoints) => {
    log.info({ listen: endpoints.address }, 'serving /healthz, /readyz and /metrics');
    return endpoints;
  });
  const writing = writeWhileLeading(options, scheduler, leaseNamespace);
  // Each is awaited below; a failure of one must not go unhandled while the other is awaited.
  opening.catch(() => undefined);
  writing.catch(() => undefined);
  try {
    await opening;
    await writing;
  } finally {
    scheduler.stop();
    await (await opening.catch(() => undefined))?.close();
  }
  return { summary: `stopped after ${passes} full pass(es)` };
}

/** Writes from the start (--leader-elect=false), or whenever this replica holds the Lease; resolves when `stop` aborts. */
async function writeWhileLeading(options: LongLivedOptions, scheduler: PassScheduler, leaseNamespace: string | undefined): Promise<void> {
  const { config, metrics, stop } = options;
  const { log } = options.context;
  if (!config.leaderElect) {
    if (!config.dryRun) log.warn('--leader-elect=false: this replica writes; run only one');
    options.startWriting(stop);
    metrics.leader.set(1);
    scheduler.within(0, 'writing');
    await new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true }));
  } else {
    const identity = identityFromEnv(options.env);
    while (!stop.aborted) {
      const ended = await runLeaderElection({
        client: options.client,
        namespace: leaseNamespace as string,
        name: config.leaseName,
        identity,
        leaseDurationMs: config.leaseDurationMs,
        renewDeadlineMs: config.renewDeadlineMs,
        retryPeriodMs: config.retryPeriodMs,
        signal: stop,
        onStartedLeading(leading) {
          log.info({ identity, lease: `${leaseNamespace}/${config.leaseName}` }, 'leading: this replica writes');
          metrics.leader.set(1);
          options.startWriting(leading);
          // What the last leader may have left undone, and what changed while this one followed.
          scheduler.within(0, 'started leading');
        },
        onStoppedLeading() {
          options.stopWriting();
          metrics.leader.set(0);
          log.warn({ identity }, 'no longer leading: writes stopped');
        },
        onNewLeader: (holder) => log.info({ holder }, `the leader is ${holder || 'nobody'}`),
        onError: (error) => log.warn({ err: error }, 'leader election: an attempt failed'),
      });
      if (ended === 'lost') log.error('lost the Lease (renewal failed within the renew deadline); standing as a candidate again');
    }
  }
}
