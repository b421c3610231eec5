/**
 * `cmdb-hook consume`: takes the controller's transitions from the broker (the durable consumer, shared by every
 * replica: competing consumers) and applies them to the CMDB (apply-delivery.ts). What it uses is declared first,
 * idempotently, so a consumer that starts before any publisher loses nothing. /healthz, /readyz (200 while consuming)
 * and /metrics on --listen. No deadline: SIGTERM or SIGINT stop it; messages in its hands go back to the broker.
 */
import type { CmdbBackend } from '../../cmdb/backend.ts';
import type { ConsumeConfig } from '../../config/consume-config.ts';
import type { Outcome, RunContext } from '../../run-context.ts';
import { startEndpoints } from '../../serve/http-endpoints.ts';
import { createRegistry, defineCounter } from '../../serve/metrics.ts';
import { brokerPlace, checkTransport, openTransport } from '../open-transport.ts';
import type { Transport } from '../transport.ts';
import { createApplier } from './apply-delivery.ts';
import { InventoryRetirer } from './inventory-retirer.ts';

export interface ConsumeCmdb {
  kind: string;
  open(): CmdbBackend;
  requestTimeoutMs: number;
}

export async function runConsume(config: ConsumeConfig, cmdb: ConsumeCmdb, context: RunContext): Promise<Outcome> {
  const { log } = context;
  context.subject = `cluster ${config.cluster}`;
  checkTransport(config.source, config.cluster);
  const stopping = new AbortController();
  const onSignal = (signal: NodeJS.Signals) => {
    log.info({ signal }, `${signal}: stopping`);
    stopping.abort();
  };
  process.once('SIGTERM', onSignal).once('SIGINT', onSignal);
  const stop = AbortSignal.any([stopping.signal, context.deadline.signal]);
  const registry = createRegistry({ processMetrics: true });
  const messages = defineCounter<'type' | 'outcome'>(registry, {
    name: 'consume_messages_total',
    help: 'Transitions taken from the broker by type (registered, deregistered; unknown: not decodable) and outcome (written; skipped: already applied; retried: the CMDB failed; dead: dead-lettered).',
    labelNames: ['type', 'outcome'],
  });
  let consuming = false;
  const endpoints = await startEndpoints({
    listen: config.listen,
    // The consumer's loop ends the process when it stops (a connection closed for good): alive while it runs.
    live: () => ({ ok: true }),
    ready: () => (consuming ? { ok: true } : { ok: false, reason: `not consuming from ${config.source.kind} yet (connecting or declaring)` }),
    registry,
    log,
  });
  log.info({ listen: endpoints.address }, 'serving /healthz, /readyz and /metrics');
  let transport: Transport | undefined;
  let backend: CmdbBackend | undefined;
  try {
    transport = await openTransport(config.source, { cluster: config.cluster, side: 'consume', logger: log, signal: stop });
    await transport.declare(stop);
    const open = () => (backend ??= cmdb.open());
    const inventory = new InventoryRetirer({ cluster: config.cluster, orphanGraceMs: config.orphanGraceMs, maxRetire: config.maxRetire, backend: open, attemptTimeoutMs: cmdb.requestTimeoutMs, signal: stop, log });
    const handle = createApplier({
      inventory,
      cluster: config.cluster,
      deregisterAction: config.deregisterAction,
      // One backend for the process, as the controller's writer has: its HTTP agent and connections are reused.
      backend: open,
      attemptTimeoutMs: cmdb.requestTimeoutMs,
      signal: stop,
      log,
      onOutcome: (type, outcome) => messages.inc({ type, outcome }),
    });
    consuming = true;
    log.info({ source: config.source.kind, concurrency: config.concurrency }, `consuming from ${brokerPlace(config.source)}`);
    await transport.consumer({ concurrency: config.concurrency }).run(handle, stop);
  } catch (error) {
    if (!stop.aborted) throw error;
  } finally {
    consuming = false;
    await transport?.close();
    await endpoints.close();
    process.off('SIGTERM', onSignal).off('SIGINT', onSignal);
  }
  return { summary: 'stopped consuming' };
}
