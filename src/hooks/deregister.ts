import type { WriteResult } from '../cmdb/backend.ts';
import { buildRecord, type CmdbRecord } from '../pod/record.ts';
import { sleepWithin, type Deadline } from '../retry/deadline.ts';
import { withRetry } from '../retry/with-retry.ts';
import type { Outcome, RunContext } from '../run-context.ts';
import { formatDuration } from '../settings/duration.ts';
import type { Hook } from './open-hook.ts';
import { stopEarlierRegisters } from './stop-registers.ts';

/**
 * preStop: delete (or retire) this container incarnation's record, then optionally drain, all inside one deadline
 * that must fit in terminationGracePeriodSeconds. The id carries the pod UID, so a late preStop of an old
 * incarnation can never touch the record of a new pod that reuses the name.
 */
export async function deregister(hook: Hook, context: RunContext): Promise<Outcome> {
  const { config, pod, backend } = hook;
  const record = buildRecord(pod, config, 'terminated');
  const retire = config.deregisterAction === 'retire';

  if (config.dryRun) {
    context.print(backend.plan(retire ? 'retire' : 'remove', record));
    return { summary: `dry run: printed the request(s) it would send to ${retire ? 'retire' : 'delete'} the record; nothing sent` };
  }

  // Registers of this container that started before this run, still waiting or retrying, must not write after it.
  const stopped = await stopEarlierRegisters(record.id, context);
  const registers = stopped === 0 ? '' : `; stopped ${stopped} register run${stopped === 1 ? '' : 's'} that started before it`;
  const result = await removeRecord(hook, context, context.deadline);
  return { summary: `${describeRemoval(record, result, retire)}${registers}${drainNote(hook)}` };
}

/**
 * The part of a deregister that the hook and the sidecar share: delete (or retire) the record through the one retry
 * layer within `deadline`, then drain (whatever the CMDB did) within the same deadline.
 */
export async function removeRecord(hook: Hook, context: RunContext, deadline: Deadline): Promise<WriteResult> {
  const { log } = context;
  const { config, pod, backend } = hook;
  const record = buildRecord(pod, config, 'terminated');
  const retire = config.deregisterAction === 'retire';
  const operation = retire ? 'retire' : 'remove';
  try {
    context.phase = 'cmdb';
    const result = await withRetry((attempt) => backend[operation](record, attempt), {
      what: `${retire ? 'retire' : 'delete'} record ${record.id}`,
      deadline,
      attemptTimeoutMs: hook.requestTimeoutMs,
      log,
    });
    if (result.leftAlone) log.warn({ id: record.id, reason: result.leftAlone }, 'left the CMDB record alone');
    else log.info({ id: record.id, result: result.detail }, retire ? 'retired' : 'deregistered');
    return result;
  } finally {
    // Drain whatever the CMDB did: routers that read endpoints converge on their own clock, not the CMDB's.
    if (config.drainMs > 0) {
      context.phase = 'drain';
      log.info({ drainMs: config.drainMs }, 'draining before the container gets SIGTERM');
      await sleepWithin(config.drainMs, deadline);
    }
  }
}

/** What a removal did, in words for a summary line: "deleted record <id> (204 No Content)". */
export function describeRemoval(record: Pick<CmdbRecord, 'id'>, result: WriteResult, retire: boolean): string {
  if (result.leftAlone) return `left the record of ${record.id} alone: ${result.leftAlone}`;
  const done = result.alreadyGone ? 'found no record' : retire ? 'retired record' : 'deleted record';
  return `${done} ${record.id} (${result.detail})`;
}

export const drainNote = (hook: Hook) => (hook.config.drainMs > 0 ? `, then drained ${formatDuration(hook.config.drainMs)}` : '');
