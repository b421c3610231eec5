/**
 * The leader's writes: each planned action goes into the work queue under its record id, and the queue runs it as
 * one backend call. A retire first looks the pod up by name (pod-whereabouts.ts) and leaves the record when the pod
 * still runs. Each write that lands moves the reconciler's known records on and puts an Event on the pod; a refusal
 * puts a Warning Event there and is not tried again until the desired record changes.
 */
import type { CmdbBackend, WriteResult } from '../cmdb/backend.ts';
import { CmdbUnavailableError } from '../errors.ts';
import type { Logger } from '../logger.ts';
import type { CmdbRecord } from '../pod/record.ts';
import type { ControllerMetrics } from './controller-metrics.ts';
import type { KubeClient } from './kube/api-client.ts';
import type { EventRecorder, PodRef } from './kube/events.ts';
import type { Pod } from './kube/pod-cache.ts';
import type { PlanAction } from './plan.ts';
import { changedFacts } from './plan.ts';
import { podWhereabouts } from './pod-whereabouts.ts';
import type { Writer } from './reconciler.ts';
import { createWorkQueue, type WorkQueue } from './work-queue.ts';
import type { RateLimiter } from './rate-limiter.ts';

interface Step {
  action: PlanAction;
  pod: Pod | undefined;
}

export interface CmdbWriterOptions {
  backend: () => CmdbBackend;
  client: KubeClient;
  deregisterAction: 'delete' | 'retire';
  concurrency: number;
  ratePerSecond: number;
  /** The CMDB's request limiter, shared with the records' listing (--cmdb-rate counts every request). */
  limiter?: RateLimiter;
  attemptTimeoutMs: number;
  /** Aborts when this replica stops leading: nothing more starts. */
  signal: AbortSignal;
  log: Logger;
  metrics: ControllerMetrics;
  events: EventRecorder | undefined;
  /** A write landed (the reconciler's known records move on). */
  onWritten(action: PlanAction, removed: boolean): void;
}

export interface CmdbWriter extends Writer {
  queue: WorkQueue<Step>;
}

const refOf = (record: CmdbRecord, pod: Pod | undefined): PodRef => pod ?? { metadata: { namespace: record.namespace, name: record.pod.name, uid: record.pod.uid } };

export function createCmdbWriter(options: CmdbWriterOptions): CmdbWriter {
  const { log, metrics, events } = options;
  const retire = async (record: CmdbRecord, signal: AbortSignal): Promise<boolean> => {
    try {
      return (await podWhereabouts(options.client, record, signal)) === 'gone';
    } catch (error) {
      throw new CmdbUnavailableError(`could not look up pod ${record.namespace}/${record.pod.name} before retiring ${record.id}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
    }
  };
  const queue = createWorkQueue<Step>({
    concurrency: options.concurrency,
    ratePerSecond: options.ratePerSecond,
    ...(options.limiter ? { limiter: options.limiter } : {}),
    attemptTimeoutMs: options.attemptTimeoutMs,
    signal: options.signal,
    log,
    // Two steps are the same when they would write the same facts: observedAt alone is no reason to write again.
    sameState: (a, b) => a.action.kind === b.action.kind && changedFacts(a.action.record, b.action.record).length === 0,
    async run(id, { action, pod }, budget) {
      const backend = options.backend();
      const { record } = action;
      let result: WriteResult;
      if (action.kind === 'retire') {
        if (!(await retire(record, budget.signal))) {
          metrics.skippedRetires.inc();
          log.info({ id, pod: `${record.namespace}/${record.pod.name}` }, `record ${id} kept: its pod still runs, outside --selector or --namespace`);
          return;
        }
        // Retired as the deregister hook retires: the record marked terminated (the generic protocol and templates
        // write its state), observed now.
        const gone: CmdbRecord = { ...record, state: 'terminated', observedAt: new Date().toISOString() };
        result = options.deregisterAction === 'retire' ? await backend.retire(gone, budget) : await backend.remove(record, budget);
      } else {
        result = await backend.upsert(record, budget);
      }
      metrics.writes.inc({ action: action.kind, outcome: 'ok' });
      options.onWritten(action, action.kind === 'retire' && options.deregisterAction === 'delete');
      const what = action.kind === 'retire' ? (options.deregisterAction === 'retire' ? 'retired' : 'deleted') : action.kind === 'create' ? 'created' : `updated (${action.changed?.join(', ') ?? ''})`;
      log.info({ id, action: action.kind, detail: result.detail }, `record ${id} ${what}: ${result.detail}`);
      events?.record(refOf(record, pod), 'Normal', action.kind === 'retire' ? 'CMDBRetired' : 'CMDBRegistered', `cmdb-hook record ${id} ${what} (${result.detail})`);
    },
    onRejected(id, { action, pod }, error) {
      metrics.writes.inc({ action: action.kind, outcome: 'failed' });
      events?.record(refOf(action.record, pod), 'Warning', 'CMDBFailed', `cmdb-hook could not ${action.kind} record ${id}: ${error instanceof Error ? error.message : String(error)}`);
    },
  });
  return {
    queue,
    write(action, pod) {
      queue.add(action.record.id, { action, pod });
    },
  };
}
