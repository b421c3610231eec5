import { constants, openSync, writeSync } from 'node:fs';
import pino from 'pino';
import type { LogLevel } from './settings/log-level.ts';
import { HookError } from './errors.ts';

export type Logger = pino.Logger;

/**
 * Logs are pino JSON on stderr, written synchronously: a hook's process is short and its output must be complete
 * before the exit. --log-file adds a second, best-effort destination (e.g. /proc/1/fd/1 so lines reach
 * `kubectl logs`); if it cannot be opened or written, the run goes on and says so once.
 */
export function createLogger(options: { level: LogLevel; command: string; logFile?: string | undefined }): Logger {
  const streams: pino.StreamEntry[] = [{ level: 'trace', stream: { write: writeToStderr } }];
  let fileProblem: string | undefined;
  if (options.logFile) {
    try {
      // Non-blocking: opening a FIFO nobody reads (or /proc/1/fd/1 before PID 1 is up) must not hang the hook.
      const flags = constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NONBLOCK;
      streams.push({ level: 'trace', stream: bestEffortFile(openSync(options.logFile, flags, 0o644)) });
    } catch (error) {
      fileProblem = (error as NodeJS.ErrnoException).code ?? String(error);
    }
  }
  const logger = pino(
    {
      level: options.level,
      base: { command: options.command },
      timestamp: pino.stdTimeFunctions.isoTime,
      serializers: { err: serializeError },
      // Defence in depth: nothing should carry these, but if something does, it is masked.
      redact: { paths: ['token', '*.token', 'authorization', '*.authorization', 'headers.authorization', '*.headers.authorization'], censor: '***' },
    },
    pino.multistream(streams),
  );
  if (fileProblem) logger.warn({ logFile: options.logFile, reason: fileProblem }, '--log-file cannot be opened; logging to stderr only');
  return logger;
}

let stderrGone = false;
let pause: Int32Array | undefined; // made when first needed: the startup snapshot holds no SharedArrayBuffer
// How long one write may wait for a full, non-blocking stderr pipe to drain before stderr is given up.
const STDERR_PATIENCE_MS = 100;

/**
 * Writes to stderr, synchronously, and never fails the run: the hook's job and its exit code matter more than its
 * words. A closed pipe (EPIPE), a closed descriptor (EBADF) or a pipe nobody drains ends stderr output for the rest
 * of the run; a full pipe is waited for briefly first (EAGAIN, when the descriptor is non-blocking).
 */
export function writeToStderr(text: string): void {
  let rest = Buffer.from(text);
  let waitedMs = 0;
  while (!stderrGone && rest.length > 0) {
    try {
      rest = rest.subarray(writeSync(2, rest));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EAGAIN' && waitedMs < STDERR_PATIENCE_MS) {
        pause ??= new Int32Array(new SharedArrayBuffer(4));
        Atomics.wait(pause, 0, 0, 1);
        waitedMs += 1;
      } else {
        stderrGone = true;
      }
    }
  }
}

/** A file descriptor that stops being written to after its first failure (EPIPE, EAGAIN, EACCES...), silently. */
function bestEffortFile(fd: number): { write(line: string): void } {
  let broken = false;
  return {
    write(line) {
      if (broken) return;
      try {
        writeSync(fd, line);
      } catch {
        broken = true;
      }
    },
  };
}

/**
 * Errors are logged by name, code and message only: never their `cause` or options, which for HTTP errors may hold
 * request headers and so the token.
 */
export function serializeError(error: unknown): Record<string, unknown> {
  if (error instanceof HookError) return { type: error.name, code: error.code, message: error.message };
  if (error instanceof Error) return { type: error.name, message: error.message, stack: error.stack };
  return { message: String(error) };
}
