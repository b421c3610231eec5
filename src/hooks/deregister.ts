import { buildRecord } from '../pod/record.ts';
import { sleepWithin } from '../retry/deadline.ts';
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
  const { log, deadline } = context;
  const { config, pod, backend } = hook;
  const record = buildRecord(pod, config, 'terminated');
  const retire = config.deregisterAction === 'retire';
  const operation = retire ? 'retire' : 'remove';

  if (config.dryRun) {
    context.print(backend.plan(operation, record));
    return { summary: `dry run: printed the request(s) it would send to ${retire ? 'retire' : 'delete'} the record; nothing sent` };
  }

  // Registers of this container that started before this run, still waiting or retrying, must not write after it.
  const stopped = await stopEarlierRegisters(record.id, context);
  const registers = stopped === 0 ? '' : `; stopped ${stopped} register run${stopped === 1 ? '' : 's'} that started before it`;
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
    const drained = config.drainMs > 0 ? `, then drained ${formatDuration(config.drainMs)}` : '';
    if (result.leftAlone) return { summary: `left the record of ${record.id} alone: ${result.leftAlone}${registers}${drained}` };
    const done = result.alreadyGone ? 'found no record' : retire ? 'retired record' : 'deleted record';
    return { summary: `${done} ${record.id} (${result.detail})${registers}${drained}` };
  } finally {
    // Drain whatever the CMDB did: routers that read endpoints converge on their own clock, not the CMDB's.
    if (config.drainMs > 0) {
      context.phase = 'drain';
      log.info({ drainMs: config.drainMs }, 'draining before the container gets SIGTERM');
      await sleepWithin(config.drainMs, deadline);
    }
  }
}
