import { sleepWithin } from '../retry/deadline.ts';
import type { RunContext } from '../run-context.ts';
import { deregisterMarker, isRunning, openRunsFolder, ownStart, type Marker } from './run-markers.ts';

// A stopped register ends within a few milliseconds unless a write of its own is in flight.
const POLL_MS = 20;

/**
 * The deregister side of the rule "a deregister wins over every register that started before it": leaves this run's
 * marker first (a register that announces itself later sees it and stops by itself), then sends SIGTERM to every
 * register run of the same record id that started before it and waits for them to end, so that the delete or retire
 * that follows comes after any write of theirs. A register started after it (the restarted container's, after a
 * liveness restart) is left alone. The wait takes at most half of what is left of the deadline, keeping the other
 * half for the deregister's own request; what still runs then is killed. Returns how many runs it stopped.
 */
export async function stopEarlierRegisters(id: string, context: RunContext): Promise<number> {
  const { log, deadline } = context;
  const folder = openRunsFolder();
  const me = ownStart();
  if (typeof folder === 'string' || me === undefined) {
    const why = typeof folder === 'string' ? folder : '/proc cannot be read';
    log.warn(`${why}; runs of this container are not coordinated: a register that started earlier may still write after this deregister`);
    return 0;
  }
  try {
    folder.create(deregisterMarker(id, me));
  } catch (error) {
    log.warn({ reason: (error as NodeJS.ErrnoException).code }, `cannot write a marker in ${folder.path}; a register that has not looked yet will not see this deregister`);
  }

  const stopping: Marker[] = [];
  for (const marker of folder.list(id)) {
    if (marker.boot !== me.boot) folder.remove(marker.name); // from before a reboot: those runs are gone
    else if (marker.kind === 'deregister') {
      if (marker.start < me.ticks) folder.remove(marker.name); // this run's marker covers every register it covered
    } else if (marker.start > me.ticks) continue; // started after this deregister: the restarted container's
    else if (!isRunning(marker)) folder.remove(marker.name); // a run that was killed before it could clean up
    else if (signal(marker, 'SIGTERM', context)) stopping.push(marker);
  }
  if (stopping.length === 0) return 0;

  const until = performance.now() + deadline.remaining() / 2;
  let running = stopping.filter(isRunning);
  while (running.length > 0 && performance.now() < until && !deadline.expired()) {
    await sleepWithin(Math.ceil(Math.min(POLL_MS, until - performance.now())), deadline);
    running = running.filter(isRunning);
  }
  for (const marker of running) signal(marker, 'SIGKILL', context);
  if (running.length > 0) {
    log.warn({ pids: running.map((marker) => marker.pid) }, 'register run(s) still busy after half of the deadline were killed; a write of theirs may still reach the CMDB');
  }
  for (const marker of stopping) folder.remove(marker.name);
  log.info({ pids: stopping.map((marker) => marker.pid) }, 'stopped the register run(s) of this container that started before this deregister');
  return stopping.length;
}

function signal(marker: Marker, name: 'SIGTERM' | 'SIGKILL', context: RunContext): boolean {
  try {
    process.kill(marker.pid, name);
    return true;
  } catch (error) {
    context.log.debug({ pid: marker.pid, reason: (error as NodeJS.ErrnoException).code }, `cannot send ${name} to a register run`);
    return false;
  }
}
