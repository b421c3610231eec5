import type { Logger } from '../logger.ts';
import type { PodIdentity } from '../pod/identity.ts';
import type { Deadline } from '../retry/deadline.ts';

/** What a lifecycle run is handed by src/cli.ts: the environment, the logger, the one deadline, and stdout. */
export interface RunContext {
  /** The command line after the program name, as given (for --background to start the same run again). */
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly log: Logger;
  readonly deadline: Deadline;
  /** Writes to stdout: a JSON document (--dry-run, version --json), or a line of text as it is. */
  readonly print: (value: unknown) => void;
  /** Set once the pod is known, so the summary line can name it even when the run fails later. */
  subject?: string;
  /** What the run is doing now, so an overrun of the deadline is reported as the right kind of failure. */
  phase: 'setup' | 'readiness' | 'cmdb' | 'drain';
}

/** What a successful run reports for the summary line, e.g. "registered as <id> (201 Created) in 2.1s". */
export interface Outcome {
  summary: string;
}

/** Names the pod in messages ("shop/web-0 container app") and logs what stood in for missing Downward API data. */
export function introducePod(context: RunContext, pod: PodIdentity, container: string): void {
  context.subject = `${pod.namespace}/${pod.name} container ${container}`;
  for (const note of pod.notes) context.log.debug(note);
  context.log.debug({ pod: { name: pod.name, uid: pod.uid, namespace: pod.namespace, ip: pod.ip } }, 'pod identity');
}
