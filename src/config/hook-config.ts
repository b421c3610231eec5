import { ConfigError } from '../errors.ts';
import { logLevelOf } from '../settings/log-level.ts';
import { settingName } from '../settings/option.ts';
import type { SettingReader } from '../settings/read-settings.ts';
import { parseHttpUrl, parseReadyTcp } from '../settings/url-settings.ts';
import { parseFields } from './fields.ts';
import type { RunSettings } from './run-settings.ts';

export type Readiness = { kind: 'http'; url: URL } | { kind: 'tcp'; hosts: string[]; port: number };

/** What a register or deregister run (or the sidecar, which does both) is about and how it behaves; the CMDB's settings are cmdb/'s own. */
export interface HookConfig extends RunSettings {
  command: 'register' | 'deregister' | 'sidecar';
  cluster: string;
  container: string;
  app: string | undefined;
  fields: Record<string, string>;
  dryRun: boolean;
  podinfoDir: string;
  namespaceFile: string;
  /** register and sidecar; undefined means "register at once". */
  readiness: Readiness | undefined;
  readyIntervalMs: number;
  readyTimeoutMs: number;
  background: boolean;
  /** deregister and sidecar. */
  deregisterAction: 'delete' | 'retire';
  drainMs: number;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

/**
 * Builds and checks a hook's config, once; frozen. `defaults.deregisterAction` is the CMDB backend's (ServiceNow keeps
 * CIs and marks them retired, by its own guidance; everywhere else the record goes).
 */
export function buildHookConfig(command: HookConfig['command'], read: SettingReader, defaults: { deregisterAction: 'delete' | 'retire' }): HookConfig {
  const timeoutMs = read.duration('timeout');
  const drainMs = command === 'register' ? 0 : read.duration('drain', { zero: true });
  // The sidecar's deregister has a deadline of its own: its --timeout is the register's.
  const sidecar = command === 'sidecar';
  if (drainMs >= (sidecar ? read.duration('deregister-timeout') : timeoutMs)) {
    const bound = settingName(sidecar ? 'deregister-timeout' : 'timeout');
    throw new ConfigError(`${settingName('drain')} must be shorter than ${bound}: the drain runs inside ${sidecar ? 'the deregister\'s' : 'the one'} deadline`);
  }
  const logLevel = logLevelOf(read.text('log-level'));
  const deregisterAction = read.text('deregister-action') ?? defaults.deregisterAction;
  if (deregisterAction !== 'delete' && deregisterAction !== 'retire') {
    throw new ConfigError(`${settingName('deregister-action')} ${JSON.stringify(deregisterAction)} is not known; use delete or retire`);
  }
  const container = read.required('container', 'set it to this container\'s name as in the pod spec');
  if (!DNS_LABEL.test(container)) {
    throw new ConfigError(`${settingName('container')} ${JSON.stringify(container)} is not a container name (lowercase letters, digits and '-', at most 63)`);
  }
  const register = command !== 'deregister';
  return Object.freeze({
    command,
    cluster: read.required('cluster', 'set it to the name this cluster has in the CMDB'),
    container,
    app: read.text('app')?.trim() || undefined,
    fields: parseFields(read.entries('field')),
    timeoutMs,
    strict: read.bool('strict'),
    dryRun: read.bool('dry-run'),
    logLevel,
    logFile: read.text('log-file') || undefined,
    podinfoDir: read.text('podinfo-dir') ?? '/etc/podinfo',
    namespaceFile: read.text('namespace-file') ?? '',
    readiness: register ? parseReadiness(read.text('ready-url'), read.text('ready-tcp')) : undefined,
    readyIntervalMs: register ? read.duration('ready-interval') : 0,
    readyTimeoutMs: register ? read.duration('ready-timeout') : 0,
    background: read.bool('background'),
    deregisterAction,
    drainMs,
  });
}

function parseReadiness(readyUrl: string | undefined, readyTcp: string | undefined): Readiness | undefined {
  if (readyUrl && readyTcp) throw new ConfigError(`${settingName('ready-url')} and ${settingName('ready-tcp')} exclude each other; keep one`);
  if (readyUrl !== undefined && readyUrl.trim() === '') throw new ConfigError(`${settingName('ready-url')} is empty; give a URL or leave it out`);
  if (readyUrl) return { kind: 'http', url: parseHttpUrl('ready-url', readyUrl.trim()) };
  return readyTcp === undefined ? undefined : { kind: 'tcp', ...parseReadyTcp(readyTcp) };
}
