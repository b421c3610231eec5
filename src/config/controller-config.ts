import { ConfigError } from '../errors.ts';
import { parseListenAddress, type ListenAddress } from '../settings/listen-address.ts';
import { logLevelOf } from '../settings/log-level.ts';
import { settingName } from '../settings/option.ts';
import type { SettingReader } from '../settings/read-settings.ts';
import { parseFields } from './fields.ts';
import { readBroker, type BrokerSettings } from './queue-config.ts';
import type { RunSettings } from './run-settings.ts';

export type Policy = 'sync' | 'upsert-only' | 'create-only';
const POLICIES: readonly Policy[] = ['sync', 'upsert-only', 'create-only'];

/** What `cmdb-hook controller` does, checked once and frozen; the CMDB's settings are cmdb/'s own. */
export interface ControllerConfig extends RunSettings {
  command: 'controller';
  cluster: string;
  fields: Record<string, string>;
  kubeconfig: string | undefined;
  /** Empty: every namespace. */
  namespaces: string[];
  selector: string;
  orphanGraceMs: number;
  resyncMs: number;
  maxRetire: number;
  policy: Policy;
  cmdbRate: number;
  cmdbConcurrency: number;
  leaderElect: boolean;
  leaseNamespace: string | undefined;
  leaseName: string;
  leaseDurationMs: number;
  renewDeadlineMs: number;
  retryPeriodMs: number;
  listen: ListenAddress;
  once: boolean;
  dryRun: boolean;
  readinessGate: boolean;
  gateTimeoutMs: number;
  /** --strict: the readiness gate stays False rather than failing open. */
  gateStrict: boolean;
  deregisterAction: 'delete' | 'retire';
  /** --sink nats or rabbitmq: publish each transition to the broker instead of writing the CMDB; undefined: --sink cmdb. */
  sink: BrokerSettings | undefined;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

function count(read: SettingReader, flag: string, min: number, max: number): number {
  const raw = read.text(flag)?.trim() ?? '';
  const value = /^\d+$/.test(raw) ? Number(raw) : Number.NaN;
  if (!(value >= min && value <= max)) throw new ConfigError(`${settingName(flag)} ${JSON.stringify(raw)} is not a whole number from ${min} to ${max}`);
  return value;
}

export function buildControllerConfig(read: SettingReader, defaults: { deregisterAction: 'delete' | 'retire' }): ControllerConfig {
  const once = read.bool('once');
  const dryRun = read.bool('dry-run');
  if (!once && read.given('timeout')) throw new ConfigError(`${settingName('timeout')} bounds a --once run; a long-running controller has no deadline (it stops on SIGTERM): remove it or add --once`);
  const policy = read.text('policy') as Policy;
  if (!POLICIES.includes(policy)) throw new ConfigError(`${settingName('policy')} ${JSON.stringify(policy)} is not known; use ${POLICIES.join(', ')}`);
  const deregisterAction = read.text('deregister-action') ?? defaults.deregisterAction;
  if (deregisterAction !== 'delete' && deregisterAction !== 'retire') throw new ConfigError(`${settingName('deregister-action')} ${JSON.stringify(deregisterAction)} is not known; use delete or retire`);
  const namespaces = [...new Set(read.list('namespace'))];
  for (const namespace of namespaces) if (!DNS_LABEL.test(namespace)) throw new ConfigError(`${settingName('namespace')} ${JSON.stringify(namespace)} is not a namespace name (lowercase letters, digits and '-', at most 63)`);
  const leaseName = read.text('leader-election-name')?.trim() ?? '';
  if (!DNS_SUBDOMAIN.test(leaseName) || leaseName.length > 253) throw new ConfigError(`${settingName('leader-election-name')} ${JSON.stringify(leaseName)} is not an object name (lowercase letters, digits, '-' and '.')`);
  const leaseNamespace = read.text('leader-election-namespace')?.trim() || undefined;
  if (leaseNamespace !== undefined && !DNS_LABEL.test(leaseNamespace)) throw new ConfigError(`${settingName('leader-election-namespace')} ${JSON.stringify(leaseNamespace)} is not a namespace name`);
  const leaseDurationMs = read.duration('leader-elect-lease-duration');
  const renewDeadlineMs = read.duration('leader-elect-renew-deadline');
  const retryPeriodMs = read.duration('leader-elect-retry-period');
  // client-go's rule: lease duration > renew deadline > 1.2 x retry period, and whole seconds on the wire.
  if (!(leaseDurationMs >= 1000 && leaseDurationMs > renewDeadlineMs && renewDeadlineMs > 1.2 * retryPeriodMs)) {
    throw new ConfigError(`${settingName('leader-elect-lease-duration')} (at least 1s) must exceed ${settingName('leader-elect-renew-deadline')}, which must exceed 1.2 x ${settingName('leader-elect-retry-period')}`);
  }
  const selector = read.text('selector')?.trim() ?? '';
  if (/[\n\r]/.test(selector)) throw new ConfigError(`${settingName('selector')} must be one line, like app=web,tier!=cache`);
  const sink = readBroker(read, 'sink', ['cmdb', 'nats', 'rabbitmq']);
  // A publisher's plan is against what the broker confirmed to it: at start, nothing; there is no plan worth printing.
  if (sink && dryRun) throw new ConfigError(`${settingName('dry-run')} prints the plan against the CMDB's records, and ${settingName('sink')} ${sink.kind} has none; remove one of them`);
  return Object.freeze({
    command: 'controller',
    cluster: read.required('cluster', 'set it to the name this cluster has in the CMDB (the hooks\' --cluster)'),
    fields: parseFields(read.entries('field')),
    // A long-running controller has no deadline; --once has one, so a CronJob run never hangs.
    timeoutMs: once ? read.duration('timeout') : Number.POSITIVE_INFINITY,
    // Exit codes never fail open here: a controller is no app's hook, and a CronJob must see a failed --once (5).
    strict: true,
    gateStrict: read.bool('strict'),
    logLevel: logLevelOf(read.text('log-level')),
    // Empty means none: a shared ConfigMap's /proc/1/fd/1 would double every line of a controller that is PID 1.
    logFile: read.text('log-file') || undefined,
    kubeconfig: read.text('kubeconfig')?.trim() || undefined,
    namespaces,
    selector,
    orphanGraceMs: read.duration('orphan-grace', { zero: true }),
    resyncMs: read.duration('resync'),
    maxRetire: count(read, 'max-retire', 0, 1_000_000),
    policy,
    cmdbRate: count(read, 'cmdb-rate', 1, 10_000),
    cmdbConcurrency: count(read, 'cmdb-concurrency', 1, 256),
    leaderElect: read.bool('leader-elect') && !once && !dryRun,
    leaseNamespace,
    leaseName,
    leaseDurationMs,
    renewDeadlineMs,
    retryPeriodMs,
    listen: parseListenAddress('listen', read.text('listen') ?? ''),
    once,
    dryRun,
    readinessGate: read.bool('readiness-gate'),
    gateTimeoutMs: read.duration('gate-timeout'),
    deregisterAction,
    sink,
  });
}
