/** What the NATS transport tests share: a transport on the test's server, messages, and a look into the stream. */
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { jetstreamManager, type JetStreamManager } from '@nats-io/jetstream';
import { NatsTransport } from '../../src/queue/nats/nats-transport.ts';
import type { NatsOptions } from '../../src/queue/nats/nats-options.ts';
import type { QueueMessage } from '../../src/queue/transport.ts';
import type { NatsServer } from '../support/brokers/nats-server.ts';
import { captureLog, type CapturedLog } from '../support/capture-log.ts';

export const UID = '6f1c2a7e-3d4b-4c5a-9e8f-0a1b2c3d4e5f';

export function message(id: string, body = `{"n":"${id}"}`, key = `${UID}_app`): QueueMessage {
  return { id, key, type: 'io.cmdb-hook.container.registered', body: Buffer.from(body) };
}

export interface Opened {
  transport: NatsTransport;
  captured: CapturedLog;
  options: NatsOptions;
}

export async function openTransport(server: NatsServer, overrides: Partial<NatsOptions> = {}): Promise<Opened> {
  const captured = captureLog('debug');
  const options: NatsOptions = { url: server.url, cluster: 'prod', tokenFile: server.tokenFile, side: 'consume', logger: captured.log, ...overrides };
  const transport = await NatsTransport.open(options, AbortSignal.timeout(10_000));
  return { transport, captured, options };
}

/** A separate admin connection: what an operator's `nats` CLI would see. */
export async function admin(server: NatsServer): Promise<{ jsm: JetStreamManager; connection: NatsConnection }> {
  const connection = await connect({ servers: server.url, token: server.token });
  return { jsm: await jetstreamManager(connection), connection };
}
