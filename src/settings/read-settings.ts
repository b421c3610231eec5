import { ConfigError } from '../errors.ts';
import { parseDuration } from './duration.ts';
import { defaultOf, envVarOf, settingName, type OptionSpec } from './option.ts';

/** Parsed argv as yargs hands it over: only flags given on the command line are present. */
export type Argv = Readonly<Record<string, unknown>>;

type Value = string | boolean | string[];

/** The settings of one run, each read as flag, else env var, else default; every accessor's error names the setting. */
export interface SettingReader {
  text(flag: string): string | undefined;
  bool(flag: string): boolean;
  /** A repeatable setting: one value per flag, or per line of its env var, as given. */
  entries(flag: string): string[];
  /** A repeatable setting, each value trimmed, empty ones dropped. */
  list(flag: string): string[];
  required(flag: string, hint: string): string;
  /** A duration in whole milliseconds: positive, or zero where `zero` says so; at most 24h. */
  duration(flag: string, options?: { zero?: boolean }): number;
  /** Whether the flag or its env var was given (not just defaulted). */
  given(flag: string): boolean;
}

/**
 * Reads the settings of a command: a flag beats its env var, which beats the default. Env vars are read here rather
 * than through yargs' .env(): yargs' strict mode rejects CMDB_HOOK_READY_URL when deregister runs (one ConfigMap
 * usually feeds both hooks), and it reads CMDB_HOOK_STRICT=1 as false.
 */
export function readSettings(options: readonly OptionSpec[], command: string, argv: Argv, env: NodeJS.ProcessEnv): SettingReader {
  const settings = new Map<string, Value>();
  const given = new Set<string>();
  for (const option of options) {
    const fromFlag = argv[option.flag];
    const fromEnv = env[envVarOf(option.flag)];
    if (Array.isArray(fromFlag) && option.type !== 'array') {
      throw new ConfigError(`${settingName(option.flag)} was given more than once (${JSON.stringify(fromFlag)}); give it once`);
    }
    if (fromFlag === '' && option.type === 'string') throw new ConfigError(`${settingName(option.flag)} was given without a value`);
    if (fromFlag !== undefined || fromEnv !== undefined) given.add(option.flag);
    if (fromFlag !== undefined) settings.set(option.flag, fromFlag as Value);
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
  const entries = (flag: string): string[] => {
    const value = settings.get(flag);
    return typeof value === 'string' ? [value] : Array.isArray(value) ? value : [];
  };
  return {
    text,
    bool: (flag) => settings.get(flag) === true,
    entries,
    list: (flag) => entries(flag).map((entry) => entry.trim()).filter(Boolean),
    required(flag, hint) {
      const value = text(flag)?.trim();
      if (!value) throw new ConfigError(`${settingName(flag)} is required: ${hint}`);
      return value;
    },
    duration: (flag, { zero = false } = {}) => durationOf(flag, text(flag) ?? '', zero),
    given: (flag) => given.has(flag),
  };
}

const MAX_DURATION_MS = 24 * 3_600_000;
const BARE_NUMBER = /^\d+(\.\d*)?$|^\.\d+$/;
const TRUE = new Set(['true', '1', 'yes', 'on']);
const FALSE = new Set(['false', '0', 'no', 'off', '']);

function durationOf(flag: string, raw: string, zeroAllowed: boolean): number {
  const name = settingName(flag);
  const shown = JSON.stringify(raw);
  const parsed = parseDuration(raw);
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
}

function envValue(type: OptionSpec['type'], flag: string, raw: string): Value {
  if (type === 'string') return raw;
  if (type === 'array') return raw.split('\n').map((line) => line.replace(/\r$/, '')).filter((line) => line.trim() !== '');
  const word = raw.trim().toLowerCase();
  if (TRUE.has(word)) return true;
  if (FALSE.has(word)) return false;
  throw new ConfigError(`${envVarOf(flag)} must be true or false, not ${JSON.stringify(raw)}`);
}
