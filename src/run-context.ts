import type { Logger } from './logger.ts';
import type { Deadline } from './retry/deadline.ts';

/** What a run is handed by src/cli/run.ts: the environment, the logger, the one deadline, and stdout. */
export interface RunContext {
  /** The command line after the program name, as given (for --background to start the same run again). */
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly deadline: Deadline;
  /**
   * Writes to stdout: a JSON document (--dry-run, version --json), or a line of text as it is. False once stdout's
   * reader has gone (EPIPE): the output is dropped from then on.
   */
  readonly print: (value: unknown) => boolean;
  /** Set once the pod is known, so the summary line can name it even when the run fails later. */
  subject?: string;
  /** What the run is doing now, so an overrun of the deadline is reported as the right kind of failure. */
  phase: 'setup' | 'readiness' | 'cmdb' | 'drain';
}

/** What a successful run reports for the summary line, e.g. "registered as <id> (201 Created) in 2.1s". */
export interface Outcome {
  summary: string;
}
