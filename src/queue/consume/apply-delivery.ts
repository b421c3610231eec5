/**
 * How `cmdb-hook consume` applies one delivery to the CMDB so that, for each record id, the CMDB ends in the state of
 * the latest transition whatever duplicates, redeliveries and reorderings the broker causes:
 *   - the latest wins: where the broker can tell (Delivery.latest(), JetStream's last message on the record's
 *     subject), the latest stored transition is applied rather than the delivered one, then the broker is asked
 *     again and the newer one applied if one arrived meanwhile (the protocol nats/consumer.ts describes);
 *   - idempotent: a transition equal to what this process last applied to the record (the same facts, or its end)
 *     writes nothing, so a duplicate or a redelivery costs no CMDB request; one record's deliveries are applied one at
 *     a time, so two of them in flight never write twice;
 *   - an older transition never overwrites a newer one: a transition carries the pod version it was derived from
 *     (event.ts), and one of a lower version than what was applied to the record is acknowledged without a write
 *     (RabbitMQ has no latest() and may hand one record's messages over out of order: a redelivery, two publishers).
 *     What was applied is this process's own writes since it began holding the queue, over what it read back from
 *     the CMDB then (applied-memory.ts): each write carries its pod version in the record (`pod.resourceVersion`);
 *   - a deregistered record never comes back: pod UIDs are never reused, so a registration that arrives after the
 *     record's end (a redelivery of an older message) is acknowledged without a write, unless the end was that of a
 *     container no longer selected in a pod that lives on and the registration is of a later pod version;
 *   - a transient CMDB failure is retried later, with the retry layer's backoff by delivery count up to 30 s (no hot
 *     loop); a refusal for good, or a message that is not ours, is dead-lettered with one log line (by the transport).
 * Inventory messages go to inventory-retirer.ts; the records it finds due are retired like a deregistration.
 */
import type { CmdbBackend } from '../../cmdb/backend.ts';
import { HookError } from '../../errors.ts';
import type { Logger } from '../../logger.ts';
import { BACKOFF, honourRetryAfter, retryDelay } from '../../retry/retry-delay.ts';
import { BrokerUnavailableError } from '../broker-errors.ts';
import { decodeEvent, type Decoded } from '../decode-event.ts';
import type { Delivery, Verdict } from '../transport.ts';
import { appliedOf, AppliedMemory, type Applied } from './applied-memory.ts';
import type { InventoryRetirer } from './inventory-retirer.ts';

type Transition = Extract<Decoded, { ok: true; kind: 'registered' | 'deregistered' }>;

export interface ApplierOptions {
  cluster: string;
  deregisterAction: 'delete' | 'retire';
  backend(): CmdbBackend;
  attemptTimeoutMs: number;
  signal: AbortSignal;
  log: Logger;
  /** Retires what inventories show gone; without it, inventories are acknowledged and not applied. */
  inventory?: InventoryRetirer;
  /** Told of each transition written to the CMDB, and of each skipped as already applied (metrics). */
  onOutcome?(kind: string, outcome: 'written' | 'skipped' | 'retried' | 'dead'): void;
}

export const CONSUME_MAX_BACKOFF_MS = 30_000;
/** Rounds of "apply the latest, ask again" before acknowledging: each round means a newer message arrived meanwhile;
 *  the newer message's own delivery applies it anyway. */
const ROUNDS = 5;
/**
 * Why a transition must not be written over what was applied last, or undefined when it must: the same state
 * already, an older pod version, or a record that ended for good (its pod is gone, or the end is newer).
 */
export function staleness(before: Applied | undefined, transition: Transition): string | undefined {
  if (!before) return undefined;
  if (before.state === stateOf(transition).state) return 'already applied';
  const { version } = transition;
  if (before.version !== undefined && version !== undefined && version < before.version) return 'is older than the transition applied last';
  // A record whose pod is gone (an end without a version) never comes back; one unselected in a live pod may,
  // from a later pod version.
  if (before.state === 'gone' && (before.version === undefined || version === undefined || version <= before.version)) return 'comes after the record ended';
  return undefined;
}

const stateOf = (transition: Transition): Applied =>
  appliedOf(transition.kind === 'deregistered' ? { ...transition.record, state: 'terminated' } : transition.record, transition.version);

export function createApplier(options: ApplierOptions): (delivery: Delivery) => Promise<Verdict> {
  const { log } = options;
  const applied = new AppliedMemory(options);
  const busy = new Map<string, Promise<void>>();

  const write = async (transition: Transition, session?: number): Promise<void> => {
    const { kind, version } = transition;
    await applied.ready(session);
    // The pod version goes into the CMDB with the record: what a consumer holding the queue later reads back.
    const record = version === undefined ? transition.record : { ...transition.record, pod: { ...transition.record.pod, resourceVersion: String(version) } };
    const before = applied.get(record.id);
    const stale = staleness(before, transition);
    if (stale) {
      options.onOutcome?.(kind, 'skipped');
      log.debug({ id: record.id, event: transition.id }, `record ${record.id}: ${kind} ${stale}; nothing written`);
      return;
    }
    const timeoutMs = options.attemptTimeoutMs;
    const budget = { signal: AbortSignal.any([options.signal, AbortSignal.timeout(timeoutMs)]), timeoutMs, endsAt: performance.now() + timeoutMs };
    const backend = options.backend();
    const result = kind === 'registered' ? await backend.upsert(record, budget) : options.deregisterAction === 'retire' ? await backend.retire(record, budget) : await backend.remove(record, budget);
    applied.set(record.id, stateOf(transition));
    options.onOutcome?.(kind, 'written');
    log.info({ id: record.id, event: transition.id, detail: result.detail }, `record ${record.id} ${kind === 'registered' ? 'registered' : options.deregisterAction === 'retire' ? 'retired' : 'deleted'}: ${result.detail}`);
  };

  const applyLatest = async (delivery: Delivery, delivered: Transition): Promise<void> => {
    const latestOf = async () => {
      try {
        return delivery.latest ? await delivery.latest() : undefined;
      } catch (error) {
        throw new BrokerUnavailableError(`could not ask the broker for the latest message of ${delivered.record.id}: ${(error as Error).message}`, { cause: error });
      }
    };
    let latest = await latestOf();
    for (let round = 0; round < ROUNDS; round++) {
      const stored = latest ? decodeEvent(latest.body, options.cluster) : undefined;
      // The latest stored message of the record, unless it is no transition of this record (then the delivered one).
      const current = stored?.ok && stored.kind !== 'inventory' && stored.record.id === delivered.record.id ? stored : delivered;
      await write(current, delivery.session);
      if (!delivery.latest) return;
      const again = await latestOf();
      if (!again || again.sequence === latest?.sequence) return;
      latest = again;
    }
  };

  /** One record's writes one after another: the previous one has landed before the next one looks. */
  const serial = <T>(id: string, work: () => Promise<T>): Promise<T> => {
    const run = (busy.get(id) ?? Promise.resolve()).then(work);
    const settled = run.then(
      () => undefined,
      () => undefined,
    );
    busy.set(id, settled);
    void settled.then(() => {
      if (busy.get(id) === settled) busy.delete(id);
    });
    return run;
  };

  const verdictOf = (error: unknown, delivery: Delivery, kind: string, what: string): Verdict => {
    if (!(error instanceof HookError)) throw error;
    if (error.transient) {
      options.onOutcome?.(kind, 'retried');
      const delayMs = honourRetryAfter(retryDelay(delivery.deliveryCount, { ...BACKOFF, maxTimeout: CONSUME_MAX_BACKOFF_MS }), (error as { retryAfterMs?: number }).retryAfterMs);
      log.warn({ what, event: delivery.message.id, deliveryCount: delivery.deliveryCount, retryInMs: delayMs, err: error.message }, `${what}: ${error instanceof BrokerUnavailableError ? 'the broker' : 'the CMDB'} failed; the message comes again in ${delayMs} ms`);
      return { kind: 'retry', delayMs };
    }
    options.onOutcome?.(kind, 'dead');
    return { kind: 'dead', reason: `the CMDB refused ${kind} of ${what}: ${error.message}` };
  };

  return async (delivery) => {
    const decoded = decodeEvent(delivery.message.body, options.cluster);
    if (!decoded.ok) {
      options.onOutcome?.('unknown', 'dead');
      return { kind: 'dead', reason: decoded.problem };
    }
    if (decoded.kind === 'inventory') {
      const { inventory } = decoded;
      if (!options.inventory) return { kind: 'ack' };
      try {
        const due = await options.inventory.take(inventory);
        for (const record of due) await serial(record.id, () => write({ ok: true, kind: 'deregistered', id: decoded.id, record: { ...record, state: 'terminated' } }, delivery.session));
        return { kind: 'ack' };
      } catch (error) {
        return verdictOf(error, delivery, 'inventory', `inventory ${inventory.pass}`);
      }
    }
    try {
      await serial(decoded.record.id, () => applyLatest(delivery, decoded));
      return { kind: 'ack' };
    } catch (error) {
      return verdictOf(error, delivery, decoded.kind, `record ${decoded.record.id}`);
    }
  };
}
