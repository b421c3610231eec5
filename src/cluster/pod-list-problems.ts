/**
 * What a failed list of the pods means for the run, beyond "try again" (list-watch.ts retries every failure):
 *   - 400 before any list with this selector went through: the list's only input a user wrote that the server can
 *     refuse is the label selector (namespaces are checked names), and it will never pass. The run ends with a usage
 *     error naming --selector, a long-running controller too: a pod in CrashLoopBackOff whose log says why beats a
 *     controller that is never ready. A 400 after the selector was accepted (a proxy's) is a refusal like the next.
 *   - another refusal (401 credentials, 404 not a Kubernetes API, a TLS failure, a proxy's 4xx): a --once run ends at
 *     a scope's second one (the first 401 makes the client read rotating credentials again), so a CronJob does not
 *     wait out its --timeout for an answer that will not change. A long-running controller logs it as an error and
 *     keeps trying, as client-go's reflector does: a rotated token or a fixed RBAC mends it.
 *   - 403 (a namespace it may not list, reported apart), 408 and 410 (relisted) and transient failures: tried again.
 */
import { ConfigError, type HookError } from '../errors.ts';
import { settingName } from '../settings/option.ts';
import { KubeApiError } from './kube/kube-api-error.ts';
import type { ListWatchProblem } from './kube/list-watch.ts';

export interface ListProblemJudge {
  /** The error that ends the run, if this problem is one that asking again will not mend. */
  judge(problem: ListWatchProblem): HookError | undefined;
  /** A list with the selector went through (a page, or a sync): a later 400 is not the selector's. */
  accepted(): void;
  /** Whether the problem is a refusal (logged as an error) rather than a failure that may pass. */
  refused(problem: ListWatchProblem): boolean;
  /** The last list failure, for the summary of a run that ended before the pods were listed. */
  readonly last: string | undefined;
}

export function listProblemJudge(options: { once: boolean; selector: string }): ListProblemJudge {
  const refusals = new Map<string, number>();
  let selectorAccepted = options.selector === '';
  let last: string | undefined;
  const refusal = (problem: ListWatchProblem): KubeApiError | undefined => {
    const { error } = problem;
    if (!(error instanceof KubeApiError) || error.transient || problem.forbidden) return undefined;
    return error.status === 408 || error.status === 410 ? undefined : error;
  };
  return {
    get last() {
      return last;
    },
    accepted() {
      selectorAccepted = true;
    },
    refused: (problem) => refusal(problem) !== undefined,
    judge(problem) {
      if (problem.action !== 'list') return undefined;
      last = problem.error instanceof Error ? problem.error.message : String(problem.error);
      const refused = refusal(problem);
      if (!refused) return undefined;
      if (refused.status === 400 && !selectorAccepted) {
        return new ConfigError(`${settingName('selector')} ${JSON.stringify(options.selector)} was refused by the API server (${refused.message}); write it as kubectl get pods -l takes it, e.g. app=web,tier!=cache`);
      }
      const count = (refusals.get(problem.scope) ?? 0) + 1;
      refusals.set(problem.scope, count);
      if (!options.once || count < 2) return undefined;
      return new ConfigError(`listing the pods failed in a way asking again will not mend (${refused.message}); check ${settingName('kubeconfig')}: its server, CA, credentials and the RBAC rule pods list`);
    },
  };
}
