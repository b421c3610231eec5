/** The log lines a full pass owes the operator: what it did not do, and why. */
import type { Logger } from '../logger.ts';
import type { Plan } from './plan.ts';

export function logPassWarnings(log: Logger, plan: Plan, notListable: readonly string[]): void {
  if (plan.retireBlocked) log.error(plan.retireBlocked, `retire blocked: ${plan.retireBlocked.due} of ${plan.retireBlocked.owned} owned records would be retired, more than half; nothing retired (a lost node or a broken list is more likely than so many pods gone)`);
  if (notListable.length > 0) log.error({ notListable }, 'pods of these namespaces cannot be listed (403): none of their records is retired');
  if (plan.capped > 0) log.warn({ capped: plan.capped }, `${plan.capped} retirements held back by --max-retire until the next pass`);
}
