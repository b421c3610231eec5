import type { Registry } from 'prom-client';
import { defineCounter, defineGauge, defineHistogram } from '../serve/metrics.ts';
import type { WorkQueueCounts } from './work-queue.ts';

/** The controller's metrics (each prefixed cmdb_hook_); labels carry bounded values only, never a pod or record id. */
export function controllerMetrics(registry: Registry, read: { queue: () => WorkQueueCounts | undefined; pods: () => number; records: () => number; gatesPending: () => number }) {
  return {
    writes: defineCounter<'action' | 'outcome'>(registry, { name: 'controller_writes_total', help: 'CMDB writes by action (create, update, retire) and outcome (ok; failed: refused by the CMDB, not tried again until the record changes).', labelNames: ['action', 'outcome'] }),
    skippedRetires: defineCounter(registry, { name: 'controller_retires_skipped_total', help: 'Retirements not made because the pod, looked up by name, still runs (outside --selector or --namespace).' }),
    passes: defineCounter<'result'>(registry, { name: 'controller_passes_total', help: 'Full passes (list pods and records, compare), by result (ok, failed).', labelNames: ['result'] }),
    passSeconds: defineHistogram(registry, { name: 'controller_pass_duration_seconds', help: 'How long a full pass took, the CMDB\'s listing included.', buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] }),
    lastPass: defineGauge(registry, { name: 'controller_last_pass_timestamp_seconds', help: 'When the last full pass succeeded (Unix time).' }),
    planned: defineGauge<'action'>(registry, { name: 'controller_last_pass_actions', help: 'Actions the last full pass planned, by action (create, update, retire).', labelNames: ['action'] }),
    waiting: defineGauge(registry, { name: 'controller_orphans_waiting', help: 'Owned records whose pod is gone, not yet past --orphan-grace.' }),
    capped: defineGauge(registry, { name: 'controller_retires_capped', help: 'Retirements the last pass left for later because of --max-retire.' }),
    retireBlocked: defineGauge(registry, { name: 'controller_retire_blocked', help: '1 when the last pass retired nothing because it would have retired more than half of the cluster\'s records.' }),
    notListable: defineGauge(registry, { name: 'controller_namespaces_not_listable', help: 'Namespaces whose pods cannot be listed (403): none of their records is retired.' }),
    watchProblems: defineCounter<'action' | 'kind'>(registry, { name: 'controller_watch_problems_total', help: 'Failures of the pods\' list and watch, by action (list, watch) and kind (forbidden, stalled, error).', labelNames: ['action', 'kind'] }),
    leader: defineGauge(registry, { name: 'controller_leader', help: '1 while this replica holds the Lease and writes.' }),
    eventsDropped: defineCounter<'why'>(registry, { name: 'controller_events_dropped_total', help: 'Kubernetes Events not sent, by why (rate-limited, queue-full, failed).', labelNames: ['why'] }),
    gatesPending: defineGauge(registry, { name: 'controller_readiness_gates_pending', help: 'Pods with the readiness gate whose cmdb-hook.io/registered condition is not True yet.', collect: (gauge) => gauge.set(read.gatesPending()) }),
    gatesSet: defineCounter<'reason'>(registry, { name: 'controller_readiness_gates_set_total', help: 'cmdb-hook.io/registered conditions written, by reason (CMDBRegistered, CMDBUnavailable, CMDBPending).', labelNames: ['reason'] }),
    pods: defineGauge(registry, { name: 'controller_pods', help: 'Selected pods seen.', collect: (gauge) => gauge.set(read.pods()) }),
    records: defineGauge(registry, { name: 'controller_records', help: 'Live records of this cluster known in the CMDB.', collect: (gauge) => gauge.set(read.records()) }),
    queued: defineGauge(registry, { name: 'controller_queue_depth', help: 'Records waiting for a write (backing off or not).', collect: (gauge) => gauge.set(read.queue()?.queued ?? 0) }),
    inFlight: defineGauge(registry, { name: 'controller_queue_in_flight', help: 'CMDB writes in flight.', collect: (gauge) => gauge.set(read.queue()?.inFlight ?? 0) }),
  };
}

export type ControllerMetrics = ReturnType<typeof controllerMetrics>;
