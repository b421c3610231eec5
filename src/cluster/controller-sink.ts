/**
 * Where the controller's plan goes instead of the CMDB (`--sink nats`, later `rabbitmq`): a broker, with consumers
 * (`cmdb-hook consume`) writing the CMDB. The controller then keeps no CMDB listing: it plans against what it has
 * itself had confirmed by the broker (the sink's view), so a full pass publishes every desired record the view lacks
 * or holds with other facts, and the end of every record whose pod it saw go. A restarted publisher starts with an
 * empty view and publishes every record again: the deterministic event ids make those duplicates the broker (or the
 * consumer) drops. The inventory of each full pass lets the consumer side retire what no publisher saw go.
 */
import type { Logger } from '../logger.ts';
import type { CmdbRecord } from '../pod/record.ts';
import type { ControllerMetrics } from './controller-metrics.ts';
import type { KubeClient } from './kube/api-client.ts';
import type { PlanAction } from './plan.ts';
import type { Writer } from './reconciler.ts';
import type { WorkQueue } from './work-queue.ts';

export interface SinkWriterOptions {
  client: KubeClient;
  /** Aborts when this replica stops leading: nothing more starts. */
  signal: AbortSignal;
  log: Logger;
  metrics: ControllerMetrics;
  /** The broker confirmed an action (the reconciler's known records move on). */
  onWritten(action: PlanAction, removed: boolean): void;
}

export interface SinkWriter extends Writer {
  queue: Pick<WorkQueue<unknown>, 'counts' | 'idle'>;
}

export interface ControllerSink {
  /** For logs: `nats`. */
  readonly name: string;
  /** What the broker confirmed so far, in place of the CMDB's listing. */
  listRecords(): Promise<CmdbRecord[]>;
  writer(options: SinkWriterOptions): SinkWriter;
  /** After a full pass of the leader: the ids of every live record of the cluster. */
  inventory?(ids: ReadonlySet<string>, signal: AbortSignal): void;
  /** Resolves once what inventory() started has ended (before the connection closes). */
  flush?(): Promise<void>;
}
