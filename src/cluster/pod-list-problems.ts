/**
 * What a failed list of the pods means for the run, beyond "try again" (list-watch.ts retries every failure):
 *   - 400: the list's only input a user wrote that the server can refuse is the label selector (namespaces are
 *     checked names), and it will never pass. The run ends with a usage error naming --selector, a long-running
 *     controller too: a pod in CrashLoopBackOff whose log says why beats a controller that is never ready.
 *   - another refusal (401 credentials, 404 not a Kubernetes API, 405/406 a proxy in the way): a --once run ends at
 *     the second one (the first 401 makes the client read rotating credentials again), so a CronJob does not wait
 *     out its --timeout for an answer that will not change. A long-running controller logs it as an error and keeps
 *     trying, as client-go's reflector does: a rotated token or a fixed RBAC mends it.
 *   - 403 (a namespace it may not list, reported apart), 410 (relisted) and transient failures: tried again.
 */
import { ConfigError, type HookError } from '../errors.ts';
import { settingName } from '../settings/option.ts';
import { KubeApiError } from './kube/kube-api-error.ts';
import type { ListWatchProblem } from './kube/list-watch.ts';

export interface ListProblemJudge {
  /** The error that ends the run, if this problem is one that asking again will not mend. */
  judge(problem: ListWatchProblem): HookError | undefined;
  /** Whether the problem is a refusal (logged as an error) rather than a failure that may pass. */
  refused(problem: ListWatchProblem): boolean;
  /** The last list failure, for the summary of a run that ended before the pods were listed. */
  readonly last: string | undefined;
}

export function listProblemJudge(options: { once: boolean; selector: string }): ListProblemJudge {
  let refusals = 0;
  let last: string | undefined;
  const refusal = (problem: ListWatchProblem): KubeApiError | undefined =>
    problem.error instanceof KubeApiError && !problem.error.transient && !problem.forbidden && problem.error.status !== 410 ? problem.error : undefined;
  return {
    get last() {
      return last;
    },
    refused: (problem) => refusal(problem) !== undefined,
    judge(problem) {
      if (problem.action !== 'list') return undefined;
      last = problem.error instanceof Error ? problem.error.message : String(problem.error);
      const refused = refusal(problem);
      if (!refused) return undefined;
      if (refused.status === 400) {
        return new ConfigError(`${settingName('selector')} ${JSON.stringify(options.selector)} was refused by the API server (${refused.message}); write it as kubectl get pods -l takes it, e.g. app=web,tier!=cache`);
      }
      refusals += 1;
      if (!options.once || refusals < 2) return undefined;
      return new ConfigError(`the API server refused to list the pods (${refused.message}); check ${settingName('kubeconfig')}: its server, credentials and the RBAC rule pods list`);
    },
  };
}
