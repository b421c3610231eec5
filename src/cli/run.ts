import type { PreparedRun } from '../commands/command.ts';
import { ConfigError, CmdbUnavailableError, EXIT_CODES, HookError, NotReadyError, exitCodeFor } from '../errors.ts';
import { createLogger, writeToStderr, type Logger } from '../logger.ts';
import { createDeadline } from '../retry/deadline.ts';
import type { Outcome, RunContext } from '../run-context.ts';
import { formatDuration } from '../settings/duration.ts';
import type { Argv } from '../settings/read-settings.ts';
import { AGENT_NAME } from '../version.ts';
import { COMMANDS } from './commands.ts';
import { parseArgs } from './parse-args.ts';
import { stdoutPrinter } from './stdout.ts';

// If something ever ignores the deadline's signal, this still ends the run shortly after it.
const WATCHDOG_GRACE_MS = 500;

/**
 * Parses argv, builds the config, runs one command and returns the exit code. This is the one place where errors
 * become exit codes and where the final human sentence is printed (the kubelet copies hook output into events).
 */
export async function run(args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  let parsed: { command: string; argv: Argv } | undefined;
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
  log.debug({ config: prepared.effective }, 'effective config');

  const deadline = createDeadline(config.timeoutMs);
  const print = stdoutPrinter(log);
  const context: RunContext = { args, env, log, deadline, phase: 'setup', print };
  // A run that throws before its first await (a config error found once the pod is read) fails like any other.
  const lifecycle = (async () => prepared.run(context))();
  let watchdog: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    if (!Number.isFinite(deadline.totalMs)) return; // a long-running mode: it ends on SIGTERM, not at a deadline
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

