/**
 * The controller's sink for any broker (the Transport's Publisher): each planned action becomes one CloudEvents
 * transition, published through the controller's work queue keyed by record id, so one record's transitions leave in
 * order and only the latest waiting state of a record is sent. An action counts as done only once the broker
 * confirmed it (the publish resolves on the PubAck or publisher confirm): until then the view does not move on, and
 * the next full pass derives it again. While the broker is down, the queue holds at most one entry per record id (a
 * bounded buffer) and tries each again with its backoff; nothing is dropped.
 */
import { createWorkQueue } from '../../cluster/work-queue.ts';
import type { ControllerSink, SinkWriter, SinkWriterOptions } from '../../cluster/controller-sink.ts';
import type { Pod } from '../../cluster/kube/pod-cache.ts';
import { changedFacts, type PlanAction } from '../../cluster/plan.ts';
import { podWhereabouts } from '../../cluster/pod-whereabouts.ts';
import { CmdbUnavailableError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import type { CmdbRecord } from '../../pod/record.ts';
import { encodeEvent, transitionEvent, type Transition } from '../event.ts';
import { inventoryEvents, inventoryPass, INVENTORY_SUBJECT } from '../inventory.ts';
import type { Publisher } from '../transport.ts';

interface Step {
  action: PlanAction;
  pod: Pod | undefined;
}

export interface BrokerSinkOptions {
  name: string;
  publisher: Publisher;
  cluster: string;
  /** Who publishes (the pod name): part of each inventory's pass name. */
  identity: string;
  /** The controller's --namespace list (empty: every namespace), carried in each inventory. */
  namespaces?: readonly string[];
  log: Logger;
  /** Publishes in flight, at most. */
  concurrency?: number;
  /** What one publish may take before the queue backs off and tries again. */
  attemptTimeoutMs?: number;
}

/** The transition an action stands for; a record whose pod lives on ends under that pod's version (event.ts). */
export function transitionOf(action: PlanAction, pod: Pod | undefined, now: Date): Transition {
  const resourceVersion = pod?.metadata?.resourceVersion;
  if (action.kind !== 'retire') return { kind: 'registered', record: action.record, ...(resourceVersion ? { resourceVersion } : {}) };
  const record: CmdbRecord = { ...action.record, state: 'terminated', observedAt: now.toISOString() };
  return { kind: 'deregistered', record, ...(pod && resourceVersion ? { resourceVersion } : {}) };
}

export function createBrokerSink(options: BrokerSinkOptions): ControllerSink {
  const { publisher, log } = options;
  /** What the broker confirmed: the live records this publisher registered and has not seen end. */
  const view = new Map<string, CmdbRecord>();
  let inventories = Promise.resolve();
  return {
    name: options.name,
    listRecords: () => Promise.resolve([...view.values()]),
    writer(writerOptions: SinkWriterOptions): SinkWriter {
      const { metrics } = writerOptions;
      const queue = createWorkQueue<Step>({
        concurrency: options.concurrency ?? 16,
        // The broker takes what it confirms; the work queue's limiter is for the CMDB's sake.
        ratePerSecond: 10_000,
        attemptTimeoutMs: options.attemptTimeoutMs ?? 30_000,
        signal: writerOptions.signal,
        log,
        sameState: (a, b) => a.action.kind === b.action.kind && changedFacts(a.action.record, b.action.record).length === 0,
        async run(id, { action, pod }, budget) {
          if (action.kind === 'retire' && !pod && (await stillRuns(writerOptions, action.record, budget.signal))) {
            metrics.skippedRetires.inc();
            log.info({ id }, `record ${id} kept: its pod still runs, outside --selector or --namespace`);
            return;
          }
          const event = transitionEvent(transitionOf(action, pod, new Date()));
          const { duplicate } = await publisher.publish({ id: event.id, key: id, type: event.type, body: encodeEvent(event) }, budget.signal);
          if (action.kind === 'retire') view.delete(id);
          else view.set(id, action.record);
          metrics.writes.inc({ action: action.kind, outcome: 'ok' });
          writerOptions.onWritten(action, true);
          log.info({ id, action: action.kind, event: event.id, duplicate }, `record ${id}: ${action.kind === 'retire' ? 'deregistered' : 'registered'} published${duplicate ? ' (the broker already held it)' : ''}`);
        },
        onRejected: (_id, { action }) => metrics.writes.inc({ action: action.kind, outcome: 'failed' }),
      });
      return { queue, write: (action, pod) => queue.add(action.record.id, { action, pod }) };
    },
    inventory(ids, signal) {
      // One at a time, after the pass's transitions were handed to the queue; a failed one waits for the next pass.
      const now = new Date();
      inventories = inventories.then(async () => {
        const pass = inventoryPass(now, options.identity);
        for (const event of inventoryEvents({ cluster: options.cluster, pass, ids, at: now, namespaces: options.namespaces ?? [] })) {
          await publisher.publish({ id: event.id, key: INVENTORY_SUBJECT, type: event.type, body: encodeEvent(event) }, signal);
        }
        log.debug({ pass, ids: ids.size }, 'inventory published');
      }).catch((error: unknown) => {
        if (!signal.aborted) log.warn({ err: (error as Error).message }, 'the inventory could not be published; the next full pass sends another');
      });
    },
    flush: () => inventories,
  };
}

async function stillRuns(options: SinkWriterOptions, record: CmdbRecord, signal: AbortSignal): Promise<boolean> {
  try {
    return (await podWhereabouts(options.client, record, signal)) === 'running';
  } catch (error) {
    throw new CmdbUnavailableError(`could not look up pod ${record.namespace}/${record.pod.name} before publishing the end of ${record.id}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
}
