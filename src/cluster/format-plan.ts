import type { Plan } from './plan.ts';

/**
 * The `--dry-run` text of a plan, for people and for scripts: one line per action, `<create|update|retire> <record id>
 * <namespace>/<pod> <container>`, an update with a fifth word `changed=<fact>,<fact>` (the facts that differ); then
 * what was left alone or held back, each line starting with `#`; the counts always last.
 */
export function formatPlan(plan: Plan): string {
  const lines = plan.actions.map(({ kind, record, changed }) => {
    const line = `${kind} ${record.id} ${record.namespace}/${record.pod.name} ${record.container}`;
    return changed ? `${line} changed=${changed.join(',')}` : line;
  });
  if (plan.notOwned.length > 0) lines.push(`# ${plan.notOwned.length} not owned by this cluster's cmdb-hook, left alone: ${plan.notOwned.join(', ')}`);
  if (plan.retireBlocked) {
    const { due, owned } = plan.retireBlocked;
    lines.push(`# retire blocked: ${due} of ${owned} owned records would be retired, more than half; nothing retired (a lost node or a broken list is more likely than so many pods gone)`);
  }
  const count = (kind: string) => plan.actions.filter((action) => action.kind === kind).length;
  lines.push(`${count('create')} to create, ${count('update')} to update, ${count('retire')} to retire, ${plan.waiting} waiting for the orphan grace, ${plan.capped} held back by max-retire`);
  return `${lines.join('\n')}\n`;
}
