import type { RunSettings } from '../config/run-settings.ts';
import type { Outcome, RunContext } from '../run-context.ts';
import type { OptionSpec } from '../settings/option.ts';
import type { Argv } from '../settings/read-settings.ts';

/** A prepared run: the settings src/cli/run.ts needs (deadline, strictness, logging), and the one call it makes. */
export interface PreparedRun {
  settings: RunSettings;
  /** The effective config, for the debug log: paths and values, never secrets (files are named, not read). */
  effective: Record<string, unknown>;
  run(context: RunContext): Promise<Outcome>;
}

/** A subcommand: the options it takes; it builds and checks its config from argv and env, and binds it to one call. */
export interface CommandModule {
  name: string;
  describe: string;
  /** A required positional argument, e.g. `dir` for `install <dir>`. */
  positional?: string;
  options: readonly OptionSpec[];
  prepare(argv: Argv, env: NodeJS.ProcessEnv): PreparedRun;
}

/** The options of `command` among some tables. */
export function optionsFor(command: string, ...tables: (readonly OptionSpec[])[]): OptionSpec[] {
  return tables.flat().filter((option) => option.commands.includes(command));
}
