import { endingWith, type Deadline } from '../retry/deadline.ts';
import type { RunContext } from '../run-context.ts';
import { openRunsFolder, ownStart, registerMarker, registerRunStart, type StartTime } from './run-markers.ts';

const DEREGISTERED = 'deregistered meanwhile: a deregister of this container started after this register';

/** The register side of the rule "a deregister wins over every register that started before it". */
export interface RegisterGuard {
  /** The run's deadline, ended early when the run is stopped: readiness checks and retry sleeps obey it. */
  readonly deadline: Deadline;
  /**
   * Sends one CMDB attempt, unless a deregister started after this run did; then it throws instead. An attempt that
   * is under way when SIGTERM comes is not cut short: its answer comes before the deregister's request goes out.
   */
  attempt<T>(send: () => Promise<T>): Promise<T>;
  /** Why the run was stopped early, or undefined. */
  stopped(): string | undefined;
  /** Removes this run's marker. */
  end(): void;
}

/**
 * Announces this register run with its marker, and stops it when a deregister of the same container that started
 * after it has begun: on the deregister's SIGTERM, or when its marker is seen (looked for once the own marker exists
 * and before each attempt; with both sides writing before they look, one of them always sees the other).
 */
export function guardRegister(id: string, context: RunContext): RegisterGuard {
  const { log } = context;
  const stop = new AbortController();
  const deadline = endingWith(context.deadline, stop.signal);
  let reason: string | undefined;
  const halt = (why: string) => {
    if (reason !== undefined) return;
    reason = why;
    log.info(`stopping: ${why}`);
    stop.abort(new Error(why));
  };

  const folder = openRunsFolder();
  const own = ownStart();
  const start: StartTime | undefined = own && registerRunStart(context.env, own);
  const deregisteredSince = () =>
    typeof folder !== 'string' && start !== undefined && folder.list(id).some((marker) => marker.kind === 'deregister' && marker.boot === start.boot && marker.start >= start.ticks);

  // Installed before the marker exists: a deregister that finds the marker may signal at once. Left installed until
  // the process exits, so a late signal never turns a finished run into a killed one.
  process.on('SIGTERM', () => halt(deregisteredSince() ? DEREGISTERED : 'stopped by SIGTERM'));

  let marker: string | undefined;
  const forget = () => {
    if (marker !== undefined && typeof folder !== 'string') folder.remove(marker);
    marker = undefined;
  };
  if (typeof folder === 'string' || own === undefined || start === undefined) {
    const why = typeof folder === 'string' ? folder : '/proc cannot be read';
    log.warn(`${why}; runs of this container are not coordinated: a deregister cannot stop this register`);
  } else {
    try {
      const name = registerMarker(id, start, process.pid, own.ticks);
      folder.create(name);
      marker = name;
      process.once('exit', forget); // also when the run is cut off at its deadline
    } catch (error) {
      log.warn({ reason: (error as NodeJS.ErrnoException).code }, `cannot write a marker in ${folder.path}; a deregister cannot stop this register`);
    }
  }
  if (deregisteredSince()) halt(DEREGISTERED);

  return {
    deadline,
    async attempt(send) {
      if (reason === undefined && deregisteredSince()) halt(DEREGISTERED);
      if (reason !== undefined) throw new Error(reason);
      return send();
    },
    stopped: () => reason,
    end() {
      process.off('exit', forget);
      forget();
    },
  };
}
