/**
 * The broker named by --sink or --source, as a Transport: the one place that maps a broker's settings to its
 * implementation (RabbitMQ joins here). Connecting retries until `signal` aborts; a refused credential or a bad
 * setting is a ConfigError at once.
 */
import type { NatsSettings } from '../config/queue-config.ts';
import type { Logger } from '../logger.ts';
import { serversOf, subjectsOf } from './nats/nats-options.ts';
import { NatsTransport } from './nats/nats-transport.ts';
import type { Transport } from './transport.ts';

/** The settings' own checks (a URL with credentials, a cluster name no subject can hold), before anything listens. */
export function checkTransport(settings: NatsSettings, cluster: string): void {
  serversOf(settings.url);
  subjectsOf(cluster);
}

export async function openTransport(settings: NatsSettings, options: { cluster: string; side: 'publish' | 'consume'; logger: Logger; signal: AbortSignal }): Promise<Transport> {
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
