import { writeSync } from 'node:fs';
import yargs, { type Argv as Yargs } from 'yargs';
import type { CommandModule, PreparedRun } from './commands/command.ts';
import { deregisterCommand } from './commands/deregister.ts';
import { installCommand } from './commands/install.ts';
import { registerCommand } from './commands/register.ts';
import { versionCommand } from './commands/version.ts';
import { buildConfig, type Argv } from './config.ts';
import { createBackend } from './cmdb/factory.ts';
import { loadHttpLibrary } from './cmdb/http-client.ts';
import { formatDuration } from './duration.ts';
import { ConfigError, CmdbUnavailableError, EXIT_CODES, HookError, NotReadyError, exitCodeFor } from './errors.ts';
import type { Outcome, RunContext } from './lifecycle/context.ts';
import { createLogger, writeToStderr, type Logger } from './logger.ts';
import { OPTIONS, defaultOf, envVarOf, optionsOf, settingName, type CommandName } from './options.ts';
import { createDeadline } from './retry/deadline.ts';
import { AGENT_NAME, VERSION } from './version.ts';

const COMMANDS: readonly CommandModule[] = [registerCommand, deregisterCommand, installCommand, versionCommand];

// If something ever ignores the deadline's signal, this still ends the run shortly after it.
const WATCHDOG_GRACE_MS = 500;

/**
 * Parses argv, builds the config, runs one command and returns the exit code. This is the one place where errors
 * become exit codes and where the final human sentence is printed (the kubelet copies hook output into events).
 */
export async function run(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed: { command: CommandName; argv: Argv } | undefined;
  try {
    parsed = await parseArgs(args);
  } catch (error) {
    return finish(undefined, undefined, error, false);
  }
  if (!parsed) return EXIT_CODES.ok; // --help or --version was printed
  const { command, argv } = parsed;

  const module = COMMANDS.find((entry) => entry.name === command);
  if (!module) throw new Error(`yargs chose an unknown command ${command}`);
  let prepared: PreparedRun;
  try {
    prepared = module.prepare(argv, env);
  } catch (error) {
    return finish(undefined, command, error, false);
  }
  const config = prepared.settings;
  const log = createLogger({ level: config.logLevel, command, logFile: config.logFile });
  // Config holds file paths, never secrets: TLS material is shown by which parts are set, not by content.
  log.debug({ config: { ...config, ...('tls' in config ? { tls: Object.keys(config.tls as object) } : {}) } }, 'effective config');

  const deadline = createDeadline(config.timeoutMs);
  const print = (value: unknown) => writeSync(1, `${typeof value === 'string' ? value : JSON.stringify(value, null, 2)}\n`);
  const context: RunContext = { args, env, log, deadline, phase: 'setup', print };
  const lifecycle = prepared.run(context);
  let watchdog: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    watchdog = setTimeout(() => {
      const message = `still ${context.phase === 'readiness' ? 'waiting for readiness' : 'running'} ${formatDuration(deadline.elapsed())} after start; stopped at the deadline`;
      reject(context.phase === 'readiness' ? new NotReadyError(message) : new CmdbUnavailableError(message));
    }, deadline.remaining() + WATCHDOG_GRACE_MS);
  });
  try {
    const outcome = await Promise.race([lifecycle, overrun]);
    return finish(log, command, undefined, config.strict, context.subject, outcome);
  } catch (error) {
    return finish(log, command, error, config.strict, context.subject);
  } finally {
    clearTimeout(watchdog);
  }
}

/**
 * Build time only (src/main.ts, while the single executable's startup snapshot is made): parses a register and a
 * deregister command line, builds their config and loads the HTTP client, sending and printing nothing, so that the
 * snapshot holds this code loaded and compiled and a hook run starts from there.
 */
export async function warmUp(): Promise<void> {
  const env = { POD_UID: '00000000-0000-0000-0000-000000000000', POD_NAMESPACE: 'warm-up' };
  const common = ['--cmdb-url', 'http://127.0.0.1:9/records', '--cluster', 'warm-up', '--container', 'app', '--field', 'a=b'];
  for (const [command, ...extra] of [['register', '--ready-url', 'http://127.0.0.1:9/ready'], ['deregister', '--drain', '1s']] as const) {
    const parsed = await parseArgs([command, ...common, ...extra]);
    if (parsed?.command !== command) throw new Error(`warm-up: ${command} did not parse`);
    const config = buildConfig(command, parsed.argv, env);
    createBackend(config);
  }
  await loadHttpLibrary();
}

/** Logs the outcome, prints the one-line summary as the last line on stderr, and returns the exit code. */
function finish(log: Logger | undefined, command: string | undefined, error: unknown, strict: boolean, subject?: string, outcome?: Outcome): number {
  const code = error === undefined ? EXIT_CODES.ok : exitCodeFor(error, strict);
  const head = [AGENT_NAME, command, subject].filter(Boolean).join(' ');
  let sentence: string;
  if (error === undefined) {
    sentence = `${head}: ${outcome?.summary ?? 'done'}`;
  } else if (error instanceof ConfigError) {
    sentence = `${head}: ${error.message}`;
  } else if (error instanceof HookError) {
    const policy = code === EXIT_CODES.ok ? `exit 0 (fail-open; --strict exits ${error.exitCode})` : `exit ${code}`;
    sentence = `${head}: FAILED: ${error.message}; ${policy}`;
  } else {
    sentence = `${head}: internal error (a bug, please report it): ${error instanceof Error ? error.message : JSON.stringify(error)}`;
  }
  sentence = oneLine(sentence);
  // A usage error is this one plain line and nothing else; after a run, the line follows the JSON logs. It is
  // printed even with --log-level silent: it is what the kubelet puts into the event.
  if (log && !(error instanceof ConfigError)) {
    if (error === undefined) log.info({ exitCode: code }, sentence);
    else log.error({ err: error, exitCode: code }, sentence);
  }
  writeToStderr(`${sentence}\n`);
  return code;
}

/**
 * The summary must stay one line whatever the env, files or the CMDB put into it: the kubelet copies the last line
 * into the pod's event, and a newline in POD_NAME could otherwise add a line that reads like another run's outcome.
 * Control characters, line and paragraph separators and bidi controls (which reorder what a reader sees) are escaped.
 */
function oneLine(text: string): string {
  return text.replace(/[\p{Cc}\u2028\u2029\p{Bidi_Control}]/gu, (char) => ESCAPES[char] ?? `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
const ESCAPES: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

async function parseArgs(args: string[]): Promise<{ command: CommandName; argv: Argv } | undefined> {
  let chosen: { command: CommandName; argv: Argv } | undefined;
  const direct = COMMANDS.find((entry) => entry.name === args[0]);
  // yargs renders a command's whole help text each time a named command runs (to show it on a later failure): about
  // a third of a hook's start-up. So `cmdb-hook <command> ...`, the way hooks call it, is parsed by a parser whose
  // only command is the default one; the full command list serves --help, --version and mistakes.
  const words = attachDashValues(args);
  let parser = yargs(direct ? words.slice(1) : words)
    .scriptName(direct ? `${AGENT_NAME} ${direct.name}` : AGENT_NAME)
    .version(VERSION) // explicit: a bundled or single-file binary has no package.json to read it from
    .epilogue('Every flag can also be set as CMDB_HOOK_<FLAG_IN_UPPER_SNAKE>; a flag beats its env var.')
    // Only the plain forms: `--field.x` and `--no-strict` would otherwise be accepted and silently mean something.
    .parserConfiguration({ 'camel-case-expansion': false, 'dot-notation': false, 'boolean-negation': false })
    .strict()
    .help()
    .wrap(120)
    .showHelpOnFail(false)
    .exitProcess(false)
    .fail((message, error) => {
      throw error instanceof HookError ? error : new ConfigError(`${message ?? error?.message ?? 'bad usage'}; run '${AGENT_NAME} <command> --help' for the flags`);
    });
  for (const entry of direct ? [direct] : COMMANDS) {
    const name = direct ? '$0' : entry.name;
    const usage = entry.positional ? `${name} <${entry.positional}>` : name;
    parser = parser.command(usage, entry.describe, (sub) => declareOptions(sub, entry.name), (argv) => {
      chosen = { command: entry.name, argv };
    });
  }
  if (!direct) parser = parser.usage(`${AGENT_NAME} <command> [flags]`).demandCommand(1, 'give a command: register, deregister, install or version');
  await parser.parseAsync();
  if (chosen) checkArgvShape(chosen.argv, direct ? 0 : 1, args);
  return chosen;
}

/**
 * yargs reads a word that starts with '-' as short flags: `--timeout -5s` became "Unknown arguments: 5, s", naming
 * nothing. This program has no short flags, so such a word after a flag that takes a value is that value, as in
 * `--timeout=-5s`, and the config check then says what is wrong with it and names the flag.
 */
function attachDashValues(args: readonly string[]): string[] {
  const valued = new Set(OPTIONS.filter((option) => option.type !== 'boolean').map((option) => `--${option.flag}`));
  const words: string[] = [];
  for (let index = 0; index < args.length; index += 1) {
    const word = args[index] ?? '';
    const next = args[index + 1];
    if (word === '--') return [...words, ...args.slice(index)];
    if (valued.has(word) && next?.startsWith('-') && !next.startsWith('--')) {
      words.push(`${word}=${next}`);
      index += 1;
    } else {
      words.push(word);
    }
  }
  return words;
}

/**
 * What yargs lets through silently: words after `--`, `--strict=maybe` (which it reads as false), and a boolean flag
 * given twice (which it reads as one).
 */
function checkArgvShape(argv: Argv, commandWords: number, args: string[]): void {
  const extra = (argv._ as unknown[]).slice(commandWords);
  if (extra.length > 0) throw new ConfigError(`unexpected argument(s) ${JSON.stringify(extra)} after the command; every setting is a --flag`);
  const end = args.indexOf('--');
  const flags = end < 0 ? args : args.slice(0, end);
  for (const option of OPTIONS.filter((entry) => entry.type === 'boolean')) {
    const given = flags.filter((arg) => arg === `--${option.flag}` || arg.startsWith(`--${option.flag}=`));
    if (given.length > 1) throw new ConfigError(`${settingName(option.flag)} was given more than once (${given.join(' ')}); give it once`);
    const value = given.find((arg) => arg.includes('='))?.slice(option.flag.length + 3);
    if (value !== undefined && value !== 'true' && value !== 'false') {
      throw new ConfigError(`${settingName(option.flag)} takes no value, or =true / =false; not ${JSON.stringify(value)}`);
    }
  }
}

function declareOptions(parser: Yargs, command: CommandName): Yargs {
  for (const option of optionsOf(command)) {
    const fallback = defaultOf(option, command);
    // A repeatable flag is a plain string that yargs collects when repeated (not `array: true`, which is greedy
    // and would swallow the words after it); src/config.ts refuses a one-value flag given twice.
    parser.option(option.flag, {
      type: option.type === 'array' ? 'string' : option.type,
      describe: `${option.describe} [env ${envVarOf(option.flag)}]${fallback === undefined ? '' : ` [default ${fallback}]`}`,
    });
  }
  return parser;
}
