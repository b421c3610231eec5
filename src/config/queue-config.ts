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

/** A broker the flags may name that is not built yet: refused with a clear line rather than as unknown. */
const PLANNED = new Set(['rabbitmq']);
/** A JetStream stream or consumer name: no spaces, dots, wildcards or path separators (nats-server's rule). */
const NATS_NAME = /^[^\s.*>/\\]{1,255}$/;

function natsName(read: SettingReader, flag: string): string {
  const value = read.text(flag)?.trim() ?? '';
  if (!NATS_NAME.test(value)) throw new ConfigError(`${settingName(flag)} ${JSON.stringify(value)} is not a JetStream name (no spaces, '.', '*', '>', '/' or '\\')`);
  return value;
}

/**
 * --sink (controller) or --source (consume): `cmdb` (the controller's default: no broker), or a broker and its
 * settings. A broker's settings without that broker are a mistake worth saying out loud.
 */
export function readBroker(read: SettingReader, flag: 'sink' | 'source', allowed: readonly string[]): NatsSettings | undefined {
  const kind = read.text(flag)?.trim() ?? '';
  if (PLANNED.has(kind)) throw new ConfigError(`${settingName(flag)} ${kind} is not built yet; use ${allowed.join(' or ')}`);
  if (!allowed.includes(kind)) throw new ConfigError(`${settingName(flag)} ${JSON.stringify(kind)} is not known; use ${allowed.join(' or ')}`);
  const natsFlags = ['nats-url', 'nats-token-file', 'nats-creds-file', 'nats-ca-file', 'nats-stream', 'nats-consumer'];
  if (kind !== 'nats') {
    const given = natsFlags.find((each) => read.given(each));
    if (given) throw new ConfigError(`${settingName(given)} is only used with ${settingName(flag)} nats; remove it or add ${flag === 'sink' ? '--sink nats' : '--source nats'}`);
    return undefined;
  }
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
