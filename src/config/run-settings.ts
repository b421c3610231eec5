import type { LogLevel } from '../settings/log-level.ts';

/** The settings every command has: how long, how strict, how loud; src/cli/run.ts needs them before anything runs. */
export interface RunSettings {
  timeoutMs: number;
  strict: boolean;
  logLevel: LogLevel;
  logFile: string | undefined;
}
