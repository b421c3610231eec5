import { ConfigError } from '../errors.ts';
import { parseListenAddress, type ListenAddress } from '../settings/listen-address.ts';
import { logLevelOf } from '../settings/log-level.ts';
import { settingName } from '../settings/option.ts';
import type { SettingReader } from '../settings/read-settings.ts';
import { readBroker, type BrokerSettings } from './queue-config.ts';
import type { RunSettings } from './run-settings.ts';

/** What `cmdb-hook consume` does, checked once and frozen; the CMDB's settings are cmdb/'s own. */
export interface ConsumeConfig extends RunSettings {
  command: 'consume';
  cluster: string;
  source: BrokerSettings;
  concurrency: number;
  orphanGraceMs: number;
  maxRetire: number;
  listen: ListenAddress;
  deregisterAction: 'delete' | 'retire';
}

export function buildConsumeConfig(read: SettingReader, defaults: { deregisterAction: 'delete' | 'retire' }): ConsumeConfig {
  const deregisterAction = read.text('deregister-action') ?? defaults.deregisterAction;
  if (deregisterAction !== 'delete' && deregisterAction !== 'retire') throw new ConfigError(`${settingName('deregister-action')} ${JSON.stringify(deregisterAction)} is not known; use delete or retire`);
  const raw = read.text('concurrency')?.trim() ?? '';
  const concurrency = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(concurrency >= 1 && concurrency <= 256)) throw new ConfigError(`${settingName('concurrency')} ${JSON.stringify(raw)} is not a whole number from 1 to 256`);
  const retireRaw = read.text('max-retire')?.trim() ?? '';
  const maxRetire = /^\d+$/.test(retireRaw) ? Number(retireRaw) : Number.NaN;
  if (!(maxRetire <= 1_000_000)) throw new ConfigError(`${settingName('max-retire')} ${JSON.stringify(retireRaw)} is not a whole number from 0 to 1000000`);
  const cluster = read.required('cluster', 'set it to the controller\'s --cluster: only that cluster\'s messages are applied');
  const source = readBroker(read, 'source', ['nats', 'rabbitmq']);
  if (!source) throw new ConfigError(`${settingName('source')} is required: the broker to consume from (nats or rabbitmq)`);
  return Object.freeze({
    command: 'consume',
    cluster,
    source,
    concurrency,
    orphanGraceMs: read.duration('orphan-grace', { zero: true }),
    maxRetire,
    listen: parseListenAddress('listen', read.text('listen') ?? ''),
    deregisterAction,
    // A consumer runs until SIGTERM; nothing of it fails open.
    timeoutMs: Number.POSITIVE_INFINITY,
    strict: true,
    logLevel: logLevelOf(read.text('log-level')),
    logFile: read.text('log-file') || undefined,
  });
}
