/**
 * `cmdb-hook controller --sink nats|rabbitmq`: the controller, with its plan published to the broker rather than written to
 * the CMDB. What the broker needs (stream; exchange and queues) is declared first (idempotently), so nothing published before the first consumer starts is lost.
 */
import { runController } from '../../cluster/controller.ts';
import { identityFromEnv } from '../../cluster/kube/leader-election.ts';
import type { ControllerConfig } from '../../config/controller-config.ts';
import type { BrokerSettings } from '../../config/queue-config.ts';
import type { Outcome, RunContext } from '../../run-context.ts';
import { brokerPlace, checkTransport, openTransport, untilSignalled } from '../open-transport.ts';
import { createBrokerSink } from './broker-sink.ts';

export async function runPublisher(config: ControllerConfig, settings: BrokerSettings, context: RunContext): Promise<Outcome> {
  const { log } = context;
  checkTransport(settings, config.cluster);
  const starting = untilSignalled();
  const signal = AbortSignal.any([starting.signal, context.deadline.signal]);
  let transport;
  try {
    transport = await openTransport(settings, { cluster: config.cluster, side: 'publish', logger: log, signal });
    await transport.declare(signal);
  } catch (error) {
    await transport?.close();
    if (signal.aborted) return { summary: 'stopped before the broker was reached' };
    throw error;
  } finally {
    starting.dispose();
  }
  log.info({ sink: settings.kind }, `publishing to ${brokerPlace(settings)}`);
  const sink = createBrokerSink({ name: settings.kind, publisher: transport.publisher(), cluster: config.cluster, identity: identityFromEnv(context.env), namespaces: config.namespaces, log });
  try {
    return await runController(config, sink, context);
  } finally {
    // A --once run's inventory may still wait for its PubAck; a stopped one gave up with the stop signal.
    await Promise.race([sink.flush?.(), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
    await transport.close();
  }
}
