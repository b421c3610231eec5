import { BACKEND_KINDS } from './cmdb/factory.ts';
import { checkKindSettings } from './cmdb/kind-settings.ts';
import { parseDuration } from './duration.ts';
import { ConfigError } from './errors.ts';
import { FILE_KINDS, readSettingFile } from './files.ts';
import { defaultOf, envVarOf, optionsOf, settingName, type CommandName } from './options.ts';
import { checkTlsFiles, type TlsFile } from './tls-files.ts';
import { parseCmdbUrl, parseHttpUrl, parseReadyTcp } from './url-settings.ts';

export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'silent';
const LOG_LEVELS: readonly LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'silent'];

export type Readiness = { kind: 'http'; url: URL } | { kind: 'tcp'; hosts: string[]; port: number };

/** Files are read here, once, so a missing one is a config error before anything is sent. */
export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
}

export interface Config extends RunSettings {
  command: 'register' | 'deregister';
  cmdbKind: string;
  /** Undefined only with --dry-run. */
  cmdbUrl: URL | undefined;
  cmdbTokenFile: string | undefined;
  /** servicenow: basic auth, as an alternative to the token. */
  cmdbUser: string | undefined;
  cmdbPasswordFile: string | undefined;
  tls: TlsMaterial;
  /** template: the request template file. */
  templateFile: string | undefined;
  /** netbox: tenant slug, tag slugs, VRF name. */
  netbox: { tenant: string | undefined; tags: string[]; vrf: string | undefined };
  /** servicenow: sysparm_data_source of Identification and Reconciliation. */
  servicenowDataSource: string | undefined;
  requestTimeoutMs: number;
  cluster: string;
  container: string;
  app: string | undefined;
  fields: Record<string, string>;
  dryRun: boolean;
  podinfoDir: string;
  namespaceFile: string;
  /** register only; undefined means "register at once". */
  readiness: Readiness | undefined;
  readyIntervalMs: number;
  readyTimeoutMs: number;
  background: boolean;
  /** deregister only. */
  deregisterAction: 'delete' | 'retire';
  drainMs: number;
}

/** Parsed argv as yargs hands it over: only flags given on the command line are present. */
export type Argv = Readonly<Record<string, unknown>>;

/**
 * Builds the run's config: a flag beats its env var, which beats the default. Env vars are read here rather than
 * through yargs' .env(): yargs' strict mode rejects CMDB_HOOK_READY_URL when deregister runs (one ConfigMap usually
 * feeds both hooks), and it reads CMDB_HOOK_STRICT=1 as false.
 */
export function buildConfig(command: Config['command'], argv: Argv, env: NodeJS.ProcessEnv): Config {
  const { text, bool, required, duration, settings } = readSettings(command, argv, env);
  const dryRun = bool('dry-run');
  const cmdbKind = text('cmdb-kind') ?? 'http';
  if (!BACKEND_KINDS.includes(cmdbKind)) {
    throw new ConfigError(`${settingName('cmdb-kind')} ${JSON.stringify(cmdbKind)} is not known; use one of: ${BACKEND_KINDS.join(', ')}`);
  }
  const cmdbUrlText = text('cmdb-url')?.trim();
  if (!cmdbUrlText && !dryRun) throw new ConfigError(`${settingName('cmdb-url')} is required: set it to the CMDB API base URL, or use --dry-run`);
  const cmdbUrl = cmdbUrlText ? parseCmdbUrl(cmdbUrlText) : undefined;

  const timeoutMs = duration('timeout');
  const drainMs = command === 'deregister' ? duration('drain') : 0;
  if (drainMs >= timeoutMs) {
    throw new ConfigError(`${settingName('drain')} must be shorter than ${settingName('timeout')}: the drain runs inside the one deadline`);
  }

  const logLevel = logLevelOf(text('log-level'));
  // ServiceNow keeps CIs and marks them retired (its own guidance); everywhere else the record goes.
  const deregisterAction = text('deregister-action') ?? (cmdbKind === 'servicenow' ? 'retire' : 'delete');
  if (deregisterAction !== 'delete' && deregisterAction !== 'retire') {
    throw new ConfigError(`${settingName('deregister-action')} ${JSON.stringify(deregisterAction)} is not known; use delete or retire`);
  }

  const container = required('container', 'set it to this container\'s name as in the pod spec');
  if (!DNS_LABEL.test(container)) {
    throw new ConfigError(`${settingName('container')} ${JSON.stringify(container)} is not a container name (lowercase letters, digits and '-', at most 63)`);
  }

  checkKindSettings(cmdbKind, text, settings);

  const config: Config = {
    command,
    cmdbKind,
    cmdbUrl,
    cmdbTokenFile: text('cmdb-token-file'),
    cmdbUser: text('cmdb-user')?.trim() || undefined,
    cmdbPasswordFile: text('cmdb-password-file'),
    tls: readTls(text, cmdbUrl),
    templateFile: text('template-file'),
    netbox: { tenant: text('netbox-tenant')?.trim() || undefined, tags: listOf(settings.get('netbox-tag')), vrf: text('netbox-vrf')?.trim() || undefined },
    servicenowDataSource: text('servicenow-data-source')?.trim() || undefined,
    requestTimeoutMs: duration('request-timeout'),
    cluster: required('cluster', 'set it to the name this cluster has in the CMDB'),
    container,
    app: text('app')?.trim() || undefined,
    fields: parseFields(settings.get('field')),
    timeoutMs,
    strict: bool('strict'),
    dryRun,
    logLevel,
    logFile: text('log-file') || undefined,
    podinfoDir: text('podinfo-dir') ?? '/etc/podinfo',
    namespaceFile: text('namespace-file') ?? '',
    readiness: command === 'register' ? parseReadiness(text('ready-url'), text('ready-tcp')) : undefined,
    readyIntervalMs: command === 'register' ? duration('ready-interval') : 0,
    readyTimeoutMs: command === 'register' ? duration('ready-timeout') : 0,
    background: bool('background'),
    deregisterAction,
    drainMs,
  };
  return Object.freeze(config);
}

/** The settings common to every command: how long, how strict, how loud. */
export interface RunSettings {
  timeoutMs: number;
  strict: boolean;
  logLevel: LogLevel;
  logFile: string | undefined;
}

export interface InstallConfig extends RunSettings {
  dir: string;
}

/** `install <dir>` needs almost nothing: where to copy to, and how long it may take. */
export function buildInstallConfig(argv: Argv, env: NodeJS.ProcessEnv): InstallConfig {
  const { text, duration } = readSettings('install', argv, env);
  const dir = typeof argv.dir === 'string' ? argv.dir.trim() : '';
  if (!dir) throw new ConfigError('install needs the folder to copy into, e.g. cmdb-hook install /cmdb-hook');
  return Object.freeze({ dir, timeoutMs: duration('timeout'), strict: true, logLevel: logLevelOf(text('log-level')), logFile: undefined });
}

/** Flag, else env var, else default, for each option of the command; with typed accessors that name the setting. */
function readSettings(command: CommandName, argv: Argv, env: NodeJS.ProcessEnv) {
  const settings = new Map<string, string | boolean | string[]>();
  for (const option of optionsOf(command)) {
    const fromFlag = argv[option.flag];
    const fromEnv = env[envVarOf(option.flag)];
    if (Array.isArray(fromFlag) && option.type !== 'array') {
      throw new ConfigError(`${settingName(option.flag)} was given more than once (${JSON.stringify(fromFlag)}); give it once`);
    }
    if (fromFlag === '' && option.type === 'string') throw new ConfigError(`${settingName(option.flag)} was given without a value`);
    if (fromFlag !== undefined) settings.set(option.flag, fromFlag as string | boolean | string[]);
    else if (fromEnv !== undefined) settings.set(option.flag, envValue(option.type, option.flag, fromEnv));
    else {
      const fallback = defaultOf(option, command);
      if (fallback !== undefined) settings.set(option.flag, option.type === 'boolean' ? fallback === 'true' : fallback);
    }
  }
  const text = (flag: string): string | undefined => {
    const value = settings.get(flag);
    return typeof value === 'string' ? value : undefined;
  };
  const bool = (flag: string): boolean => settings.get(flag) === true;
  const required = (flag: string, hint: string): string => {
    const value = text(flag)?.trim();
    if (!value) throw new ConfigError(`${settingName(flag)} is required: ${hint}`);
    return value;
  };
  const duration = (flag: string): number => {
    const raw = text(flag) ?? '';
    const name = settingName(flag);
    const shown = JSON.stringify(raw);
    const parsed = parseDuration(raw);
    const zeroAllowed = flag === 'drain';
    if ((parsed.ok && parsed.ms < 0) || (!parsed.ok && parsed.outOfRange && raw.trim().startsWith('-'))) {
      throw new ConfigError(`${name} ${shown} is negative; give ${zeroAllowed ? '0s or ' : ''}a positive duration like 30s`);
    }
    // Timers overflow past ~24.8 days and fire at once; no hook should wait a day anyway.
    if ((!parsed.ok && parsed.outOfRange) || (parsed.ok && parsed.ms > MAX_DURATION_MS)) {
      throw new ConfigError(`${name} ${shown} is longer than 24h; give a shorter duration`);
    }
    if (!parsed.ok) {
      const bare = raw.trim();
      const examples = BARE_NUMBER.test(bare) ? `${bare}s or ${bare}ms` : '30s, 1m30s or 500ms';
      throw new ConfigError(`${name} ${shown} ${parsed.problem}; write it like ${examples} (units: h, m, s, ms, us, ns)`);
    }
    if (parsed.ms === 0 && !zeroAllowed) throw new ConfigError(`${name} ${shown} is zero; give a positive duration like 30s`);
    // Timers count whole milliseconds: round up, so that 500us still waits rather than becoming 0.
    return Math.ceil(parsed.ms);
  };

  return { text, bool, required, duration, settings };
}

function logLevelOf(level = 'info'): LogLevel {
  if (!LOG_LEVELS.includes(level as LogLevel)) {
    throw new ConfigError(`${settingName('log-level')} ${JSON.stringify(level)} is not a level; use one of: ${LOG_LEVELS.join(', ')}`);
  }
  return level as LogLevel;
}

const MAX_DURATION_MS = 24 * 3_600_000;
const BARE_NUMBER = /^\d+(\.\d*)?$|^\.\d+$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const FIELD_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off', '']);

function envValue(type: 'string' | 'boolean' | 'array', flag: string, raw: string): string | boolean | string[] {
  if (type === 'string') return raw;
  if (type === 'array') return raw.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line.trim() !== '');
  const word = raw.trim().toLowerCase();
  if (TRUE.has(word)) return true;
  if (FALSE.has(word)) return false;
  throw new ConfigError(`${envVarOf(flag)} must be true or false, not ${JSON.stringify(raw)}`);
}

function parseReadiness(readyUrl: string | undefined, readyTcp: string | undefined): Readiness | undefined {
  if (readyUrl && readyTcp) throw new ConfigError(`${settingName('ready-url')} and ${settingName('ready-tcp')} exclude each other; keep one`);
  if (readyUrl !== undefined && readyUrl.trim() === '') throw new ConfigError(`${settingName('ready-url')} is empty; give a URL or leave it out`);
  if (readyUrl) return { kind: 'http', url: parseHttpUrl('ready-url', readyUrl.trim()) };
  return readyTcp === undefined ? undefined : { kind: 'tcp', ...parseReadyTcp(readyTcp) };
}

/** The values of a repeatable setting: one from a single flag, several from repeats or env var lines. */
function entriesOf(value: string | boolean | string[] | undefined): string[] {
  return typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
}

function listOf(value: string | boolean | string[] | undefined): string[] {
  return entriesOf(value).map((entry) => entry.trim()).filter(Boolean);
}

function parseFields(value: string | boolean | string[] | undefined): Record<string, string> {
  const entries = entriesOf(value);
  // A Map, then Object.fromEntries: a key such as __proto__ becomes a plain field, not the object's prototype.
  const fields = new Map<string, string>();
  for (const entry of entries) {
    const at = entry.indexOf('=');
    const key = at < 0 ? '' : entry.slice(0, at).trim();
    if (at < 0 || !FIELD_KEY.test(key)) {
      throw new ConfigError(`${settingName('field')} ${JSON.stringify(entry)} is not key=value with a key of letters, digits, '_', '.' or '-'`);
    }
    if (fields.has(key)) throw new ConfigError(`${settingName('field')} gives ${JSON.stringify(key)} twice; keep one`);
    fields.set(key, entry.slice(at + 1));
  }
  return Object.fromEntries(fields);
}

function readTls(text: (flag: string) => string | undefined, cmdbUrl: URL | undefined): TlsMaterial {
  const files = { ca: text('cmdb-ca-file'), cert: text('cmdb-cert-file'), key: text('cmdb-key-file') };
  if (Boolean(files.cert) !== Boolean(files.key)) {
    throw new ConfigError(`${settingName('cmdb-cert-file')} and ${settingName('cmdb-key-file')} go together for mTLS; set both or neither`);
  }
  const flags = { ca: 'cmdb-ca-file', cert: 'cmdb-cert-file', key: 'cmdb-key-file' } as const;
  const read: Partial<Record<keyof TlsMaterial, TlsFile>> = {};
  for (const part of ['ca', 'cert', 'key'] as const) {
    const path = files[part];
    if (!path) continue;
    if (cmdbUrl?.protocol === 'http:') throw new ConfigError(`${settingName(flags[part])} is set but --cmdb-url is http; use an https URL`);
    read[part] = { flag: flags[part], path, text: readSettingFile(flags[part], path, part === 'key' ? FILE_KINDS.key : FILE_KINDS.certificates) };
  }
  checkTlsFiles(read);
  return Object.fromEntries(Object.entries(read).map(([part, file]) => [part, file.text]));
}
