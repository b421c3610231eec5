/** Waiting on things the tests cannot await directly: a condition, a detached process, a log file. */
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** Polls until the condition holds or the time is up; returns whether it held. */
export async function waitFor(condition: () => boolean, withinMs: number): Promise<boolean> {
  const until = performance.now() + withinMs;
  while (!condition()) {
    if (performance.now() >= until) return false;
    await sleep(25);
  }
  return true;
}

/** State letter of /proc/<pid>/stat (R, S, Z...), or undefined once the process is gone. */
function stateOf(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0];
  } catch {
    return undefined;
  }
}

/**
 * Whether a process (a detached background register) has ended within the time. A zombie has ended: the detached
 * process is re-parented to whatever reaps orphans here, which may not do so at once.
 */
export function processEnded(pid: number, withinMs: number): Promise<boolean> {
  return waitFor(() => {
    const state = stateOf(pid);
    return state === undefined || state === 'Z' || state === 'X';
  }, withinMs);
}

/** After a failed test: kills the background registers it started that are still running (by pid, checked). */
export function killLeftovers(pids: number[]): void {
  for (const pid of pids) {
    try {
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      if (argv.includes('register') && stateOf(pid) !== 'Z') process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

/** The text of a log file, '' while it does not exist yet. */
export function textOf(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** The pid in a `register --background` summary ("... in background process 1234 ..."). */
export function backgroundPid(summary: string): number {
  const pid = Number(/background process (\d+)/.exec(summary)?.[1]);
  if (!(pid > 0)) throw new Error(`no background pid in: ${summary}`);
  return pid;
}
