import type { Argv, RunSettings } from '../config.ts';
import type { Outcome, RunContext } from '../lifecycle/context.ts';
import type { CommandName } from '../options.ts';

/** A prepared run: the settings src/cli.ts needs (deadline, strictness, logging), and the one lifecycle call. */
export interface PreparedRun {
  settings: RunSettings;
  run(context: RunContext): Promise<Outcome>;
}

/** A subcommand: it builds and validates its own config from argv and env, and binds it to its lifecycle call. */
export interface CommandModule {
  name: CommandName;
  describe: string;
  /** A required positional argument, e.g. `dir` for `install <dir>`. */
  positional?: string;
  prepare(argv: Argv, env: NodeJS.ProcessEnv): PreparedRun;
}
