/**
 * The broker named by --sink or --source, as a Transport: the one place that maps a broker's settings to its
 * implementation. Connecting retries until `signal` aborts; a refused credential or a bad setting is a ConfigError
 * at once.
 */
import type { BrokerSettings } from '../config/queue-config.ts';
import type { Logger } from '../logger.ts';
import { serversOf, subjectsOf } from './nats/nats-options.ts';
import { NatsTransport } from './nats/nats-transport.ts';
import { readAmqpEndpoint } from './rabbitmq/amqp-settings.ts';
import { checkRoutable } from './rabbitmq/amqp-topology.ts';
import { RabbitMqTransport } from './rabbitmq/rabbitmq-transport.ts';
import type { Transport } from './transport.ts';

/** The settings' own checks (a URL with credentials, a cluster name no subject can hold), before anything listens. */
export function checkTransport(settings: BrokerSettings, cluster: string): void {
  if (settings.kind === 'rabbitmq') {
    readAmqpEndpoint(settings);
    checkRoutable(cluster);
    return;
  }
  serversOf(settings.url);
  subjectsOf(cluster);
}

/** Where the messages go or come from, for the start-up log line. */
export function brokerPlace(settings: BrokerSettings): string {
  return settings.kind === 'rabbitmq'
    ? `rabbitmq exchange ${settings.exchange}, queue ${settings.queue}`
    : `nats stream ${settings.stream}, consumer ${settings.consumer}`;
}

export async function openTransport(settings: BrokerSettings, options: { cluster: string; side: 'publish' | 'consume'; logger: Logger; signal: AbortSignal }): Promise<Transport> {
  if (settings.kind === 'rabbitmq') {
    const { url, passwordFile, caFile, exchange, queue } = settings;
    // Connects lazily: declare() waits for the broker within the signal.
    return new RabbitMqTransport({ url, passwordFile, caFile, exchange, queue, cluster: options.cluster, logger: options.logger });
  }
  const { url, tokenFile, credsFile, caFile, stream, consumer } = settings;
  return NatsTransport.open(
    {
      url,
      cluster: options.cluster,
      stream,
      consumer,
      side: options.side,
      logger: options.logger,
      ...(tokenFile ? { tokenFile } : {}),
      ...(credsFile ? { credsFile } : {}),
      ...(caFile ? { caFile } : {}),
    },
    options.signal,
  );
}

/** Until SIGTERM or SIGINT, for what runs before the command's own handlers are installed (connecting, declaring). */
export function untilSignalled(): { signal: AbortSignal; dispose(): void } {
  const controller = new AbortController();
  const onSignal = () => controller.abort();
  process.once('SIGTERM', onSignal).once('SIGINT', onSignal);
  return { signal: controller.signal, dispose: () => process.off('SIGTERM', onSignal).off('SIGINT', onSignal) };
}
