import { ConfigError } from '../errors.ts';
import { settingName } from '../settings/option.ts';
import type { SettingReader } from '../settings/read-settings.ts';

/** The JetStream settings both sides take; the transport (queue/nats/) checks the URL and reads the files. */
export interface NatsSettings {
  kind: 'nats';
  url: string;
  tokenFile: string | undefined;
  credsFile: string | undefined;
  caFile: string | undefined;
  stream: string;
  consumer: string;
}

/** The RabbitMQ settings both sides take; the transport (queue/rabbitmq/) checks the URL and reads the files. */
export interface RabbitMqSettings {
  kind: 'rabbitmq';
  url: string;
  passwordFile: string | undefined;
  caFile: string | undefined;
  exchange: string;
  queue: string;
}

export type BrokerSettings = NatsSettings | RabbitMqSettings;

/** A JetStream stream or consumer name: no spaces, dots, wildcards or path separators (nats-server's rule). */
const NATS_NAME = /^[^\s.*>/\\]{1,255}$/;
const NATS_FLAGS = ['nats-url', 'nats-token-file', 'nats-creds-file', 'nats-ca-file', 'nats-stream', 'nats-consumer'];
const AMQP_FLAGS = ['amqp-url', 'amqp-password-file', 'amqp-ca-file', 'amqp-exchange', 'amqp-queue'];
// AMQP 0-9-1 carries names as short strings (255 bytes at most), and `<queue>.dead-letter` must fit too.
const AMQP_NAME_MAX_BYTES = 200;

function natsName(read: SettingReader, flag: string): string {
  const value = read.text(flag)?.trim() ?? '';
  if (!NATS_NAME.test(value)) throw new ConfigError(`${settingName(flag)} ${JSON.stringify(value)} is not a JetStream name (no spaces, '.', '*', '>', '/' or '\\')`);
  return value;
}

/** An exchange or queue name RabbitMQ lets a client declare: `amq.` is the broker's own (403 ACCESS_REFUSED). */
function amqpName(read: SettingReader, flag: string): string {
  const value = read.text(flag)?.trim() ?? '';
  if (value === '' || Buffer.byteLength(value) > AMQP_NAME_MAX_BYTES || /[\p{Cc}]/u.test(value) || value.startsWith('amq.')) {
    throw new ConfigError(`${settingName(flag)} ${JSON.stringify(value)} is not a name cmdb-hook can declare: 1 to ${AMQP_NAME_MAX_BYTES} bytes, no control character, not starting with "amq."`);
  }
  return value;
}

/**
 * --sink (controller) or --source (consume): `cmdb` (the controller's default: no broker), or a broker and its
 * settings. A broker's settings without that broker are a mistake worth saying out loud.
 */
export function readBroker(read: SettingReader, flag: 'sink' | 'source', allowed: readonly string[]): BrokerSettings | undefined {
  const kind = read.text(flag)?.trim() ?? '';
  if (!allowed.includes(kind)) throw new ConfigError(`${settingName(flag)} ${JSON.stringify(kind)} is not known; use ${allowed.join(' or ')}`);
  for (const [broker, flags] of [['nats', NATS_FLAGS], ['rabbitmq', AMQP_FLAGS]] as const) {
    if (kind === broker) continue;
    const given = flags.find((each) => read.given(each));
    if (given) throw new ConfigError(`${settingName(given)} is only used with ${settingName(flag)} ${broker}; remove it or add --${flag} ${broker}`);
  }
  if (kind === 'rabbitmq') {
    return {
      kind: 'rabbitmq',
      url: read.required('amqp-url', 'set it to the broker, e.g. amqp://cmdb-hook@rabbitmq.messaging:5672/ (the password goes in --amqp-password-file)'),
      passwordFile: read.text('amqp-password-file')?.trim() || undefined,
      caFile: read.text('amqp-ca-file')?.trim() || undefined,
      exchange: amqpName(read, 'amqp-exchange'),
      queue: amqpName(read, 'amqp-queue'),
    };
  }
  if (kind !== 'nats') return undefined;
  const tokenFile = read.text('nats-token-file')?.trim() || undefined;
  const credsFile = read.text('nats-creds-file')?.trim() || undefined;
  if (tokenFile && credsFile) throw new ConfigError(`${settingName('nats-token-file')} and ${settingName('nats-creds-file')} were both given; give one`);
  return {
    kind: 'nats',
    url: read.required('nats-url', 'set it to the NATS server, e.g. nats://nats.messaging:4222'),
    tokenFile,
    credsFile,
    caFile: read.text('nats-ca-file')?.trim() || undefined,
    stream: natsName(read, 'nats-stream'),
    consumer: natsName(read, 'nats-consumer'),
  };
}
