import { closeSync, constants, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * How register and deregister runs of one container find each other: a folder of empty files in the container's temp
 * folder, `$TMPDIR/cmdb-hook-runs-<uid>` (mode 0700, checked with lstat: a directory, this user's, closed to others).
 * Each file's name says everything, so a look is one readdir and no file is ever read back:
 *   <record id>.r.<boot>.<run start>.<pid>.<process start>   a register run; removed when it ends
 *   <record id>.d.<boot>.<start>                              a deregister; kept, so a register that started before
 *                                                             it and looks only later still sees it
 * Start times are the kernel's: clock ticks since boot when the process was forked (/proc/<pid>/stat field 22). They
 * order runs by when the kubelet exec'd them, not by how fast each one loaded; and a pid with its start time names one
 * process even after the pid is reused. <boot> (from boot_id) keeps a folder that outlives a reboot (a disk-backed
 * emptyDir) from comparing ticks of different boots.
 */
export interface StartTime {
  boot: string;
  ticks: number;
}

export interface Marker {
  name: string;
  kind: 'register' | 'deregister';
  boot: string;
  /** When the run started (a background register carries the start of the hook that spawned it). */
  start: number;
  /** register only: the process, and its own start, to check before signalling it. */
  pid: number;
  processStart: number;
}

export interface RunsFolder {
  readonly path: string;
  /** Creates an empty file, never through a symlink; one that exists already is left as it is. */
  create(name: string): void;
  /** The markers of one record id. */
  list(id: string): Marker[];
  remove(name: string): void;
}

/** The kernel's start time and state of a process, or undefined when there is no such process. */
export function processStat(pid: number | 'self'): { ticks: number; state: string } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Field 2 (the name) may hold spaces and parentheses: count from the last ')'. Field 3 is the state, 22 the start.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[19]);
    return Number.isSafeInteger(ticks) ? { ticks, state: fields[0] ?? '' } : undefined;
  } catch {
    return undefined;
  }
}

/** This boot's id, shortened: enough to tell boots apart, short enough to keep names under the 255-byte limit. */
export function bootId(): string | undefined {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').replaceAll('-', '').trim().slice(0, 16) || undefined;
  } catch {
    return undefined;
  }
}

/** When this process started; undefined without a readable /proc (runs are then not coordinated). */
export function ownStart(): StartTime | undefined {
  const boot = bootId();
  const ticks = processStat('self')?.ticks;
  return boot === undefined || ticks === undefined ? undefined : { boot, ticks };
}

/** Whether the register run a marker names is still that process, alive: same start time, a register command line. */
export function isRunning(marker: Marker): boolean {
  const stat = processStat(marker.pid);
  if (!stat || stat.ticks !== marker.processStart || stat.state === 'Z' || stat.state === 'X') return false;
  try {
    return readFileSync(`/proc/${marker.pid}/cmdline`, 'utf8').split('\0').includes('register');
  } catch {
    return false;
  }
}

export const registerMarker = (id: string, run: StartTime, pid: number, processStart: number) => `${id}.r.${run.boot}.${run.ticks}.${pid}.${processStart}`;
export const deregisterMarker = (id: string, start: StartTime) => `${id}.d.${start.boot}.${start.ticks}`;

function parse(name: string, id: string): Marker | undefined {
  if (!name.startsWith(`${id}.`)) return undefined;
  const [kind, boot = '', ...numbers] = name.slice(id.length + 1).split('.');
  const [start = Number.NaN, pid = 0, processStart = 0] = numbers.map(Number);
  if (!Number.isSafeInteger(start) || !Number.isSafeInteger(pid) || !Number.isSafeInteger(processStart)) return undefined;
  if (kind === 'r' && numbers.length === 3) return { name, kind: 'register', boot, start, pid, processStart };
  if (kind === 'd' && numbers.length === 1) return { name, kind: 'deregister', boot, start, pid: 0, processStart: 0 };
  return undefined;
}

/**
 * Opens (creating it if need be) this user's folder of run markers; a string says why it cannot be used. A symlink,
 * another owner or access for others is refused, never followed or repaired: in a shared temp folder it may be planted.
 */
export function openRunsFolder(): RunsFolder | string {
  const uid = process.getuid?.() ?? 0;
  const path = join(tmpdir(), `cmdb-hook-runs-${uid}`);
  try {
    mkdirSync(path, 0o700);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST') return `${path} cannot be created (${code ?? String(error)}); give the container a writable temp folder (TMPDIR, or an emptyDir at /tmp)`;
  }
  let problem: string | undefined;
  try {
    const stat = lstatSync(path);
    if (!stat.isDirectory()) problem = stat.isSymbolicLink() ? 'a symlink' : 'not a directory';
    else if (stat.uid !== uid) problem = `owned by uid ${stat.uid}`;
    else if ((stat.mode & 0o077) !== 0) problem = `mode ${(stat.mode & 0o777).toString(8)}, open to other users`;
  } catch (error) {
    problem = (error as NodeJS.ErrnoException).code ?? String(error);
  }
  if (problem) return `${path} is not a private folder of this user (${problem}); it is left alone`;

  return {
    path,
    create(name) {
      try {
        closeSync(openSync(join(path, name), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      }
    },
    list(id) {
      try {
        return readdirSync(path).flatMap((name) => parse(name, id) ?? []);
      } catch {
        return [];
      }
    },
    remove(name) {
      rmSync(join(path, name), { force: true });
    },
  };
}

/**
 * A background register is spawned by the hook, later than the hook started: it carries the hook's start in this
 * variable, so a deregister that started in between counts as having started after it.
 */
export const RUN_START_ENV = 'CMDB_HOOK_RUN_START';

export const formatStart = (start: StartTime) => `${start.boot}.${start.ticks}`;

/** This register run's start: the spawning hook's (checked: same boot, not later than this process), else its own. */
export function registerRunStart(env: NodeJS.ProcessEnv, own: StartTime): StartTime {
  const [boot, text] = (env[RUN_START_ENV] ?? '').split('.');
  const ticks = Number(text);
  return boot === own.boot && Number.isSafeInteger(ticks) && ticks > 0 && ticks <= own.ticks ? { boot, ticks } : own;
}
