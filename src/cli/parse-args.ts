import yargs, { type Argv as Yargs } from 'yargs';
import type { CommandModule } from '../commands/command.ts';
import { ConfigError, HookError } from '../errors.ts';
import { defaultOf, envVarOf, settingName } from '../settings/option.ts';
import type { Argv } from '../settings/read-settings.ts';
import { AGENT_NAME, VERSION } from '../version.ts';
import { ALL_OPTIONS, COMMANDS } from './commands.ts';

/** The command chosen and its argv, or undefined when --help or --version was printed; a mistake is a ConfigError. */
export async function parseArgs(args: string[]): Promise<{ command: string; argv: Argv } | undefined> {
  let chosen: { command: string; argv: Argv } | undefined;
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
    parser = parser.command(usage, entry.describe, (sub) => declareOptions(sub, entry), (argv) => {
      chosen = { command: entry.name, argv };
    });
  }
  if (!direct) parser = parser.usage(`${AGENT_NAME} <command> [flags]`).demandCommand(1, 'give a command: register, deregister, sidecar, controller, consume, install or version');
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
  const valued = new Set(ALL_OPTIONS.filter((option) => option.type !== 'boolean').map((option) => `--${option.flag}`));
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
  for (const option of ALL_OPTIONS.filter((entry) => entry.type === 'boolean')) {
    const given = flags.filter((arg) => arg === `--${option.flag}` || arg.startsWith(`--${option.flag}=`));
    if (given.length > 1) throw new ConfigError(`${settingName(option.flag)} was given more than once (${given.join(' ')}); give it once`);
    const value = given.find((arg) => arg.includes('='))?.slice(option.flag.length + 3);
    if (value !== undefined && value !== 'true' && value !== 'false') {
      throw new ConfigError(`${settingName(option.flag)} takes no value, or =true / =false; not ${JSON.stringify(value)}`);
    }
  }
}

function declareOptions(parser: Yargs, command: CommandModule): Yargs {
  for (const option of command.options) {
    const fallback = defaultOf(option, command.name);
    // A repeatable flag is a plain string that yargs collects when repeated (not `array: true`, which is greedy
    // and would swallow the words after it); src/settings/read-settings.ts refuses a one-value flag given twice.
    parser.option(option.flag, {
      type: option.type === 'array' ? 'string' : option.type,
      describe: `${option.describe} [env ${envVarOf(option.flag)}]${fallback === undefined ? '' : ` [default ${fallback}]`}`,
    });
  }
  return parser;
}
