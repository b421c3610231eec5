/**
 * One setting of the command line: its flag, type, the commands that take it and its default. Every flag is also an
 * env var (`--cmdb-url` is `CMDB_HOOK_CMDB_URL`). Each layer declares its own options (config/options.ts for the
 * hooks' own, cmdb/ for the CMDB's and each backend's); a command lists the ones it takes. Names are a public
 * contract: add, never rename.
 */
export interface OptionSpec {
  readonly flag: string;
  /** `array`: repeatable; an env var gives one value per line. */
  readonly type: 'string' | 'boolean' | 'array';
  readonly commands: readonly string[];
  /** A default for every command, or one per command. */
  readonly default?: string | Readonly<Record<string, string>>;
  readonly describe: string;
}

/** `cmdb-url` -> `CMDB_HOOK_CMDB_URL`. */
export function envVarOf(flag: string): string {
  return `CMDB_HOOK_${flag.toUpperCase().replaceAll('-', '_')}`;
}

/** How messages name a setting: both spellings, since users set either. */
export function settingName(flag: string): string {
  return `--${flag} (${envVarOf(flag)})`;
}

export function defaultOf(option: OptionSpec, command: string): string | undefined {
  return typeof option.default === 'object' ? option.default[command] : option.default;
}
