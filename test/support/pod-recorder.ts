/**
 * Runs the controller's pod list+watch (src/cluster/kube/list-watch.ts) against the API stand-in for a test and
 * records what the caller is told, in order; stopped (and awaited) when the test ends.
 */
import type { TestContext } from 'node:test';
import type { KubeClient } from '../../src/cluster/kube/api-client.ts';
import { listWatchPods, type ListWatchOptions, type ListWatchProblem, type Pod, type SyncInfo } from '../../src/cluster/kube/list-watch.ts';
import type { LoggedRequest } from './kube-api/server.ts';

export type Heard = { kind: 'synced'; pods: Pod[]; info: SyncInfo } | { kind: 'added' | 'modified' | 'deleted'; pod: Pod };

export interface Recorder {
  heard: Heard[];
  problems: ListWatchProblem[];
  syncs(): { pods: Pod[]; info: SyncInfo }[];
  /** `added web-0` lines for the events heard after the last synced (or all of them). */
  events(sinceLastSync?: boolean): string[];
  stop(): Promise<void>;
}

export const nameOf = (pod: Pod) => `${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
export const namesOf = (pods: Pod[]) => pods.map(nameOf).sort();

export function recordPods(t: TestContext, client: KubeClient, options: Partial<ListWatchOptions> = {}): Recorder {
  const heard: Heard[] = [];
  const problems: ListWatchProblem[] = [];
  const stopper = new AbortController();
  const done = listWatchPods(
    { client, backoff: { initialMs: 100, maxMs: 1000 }, watchdogMs: 5000, onProblem: (problem) => problems.push(problem), signal: stopper.signal, ...options },
    {
      synced: (pods, info) => heard.push({ kind: 'synced', pods, info }),
      added: (pod) => heard.push({ kind: 'added', pod }),
      modified: (pod) => heard.push({ kind: 'modified', pod }),
      deleted: (pod) => heard.push({ kind: 'deleted', pod }),
    },
  );
  const stop = async () => {
    stopper.abort();
    await done;
  };
  t.after(stop);
  return {
    heard,
    problems,
    syncs: () => heard.flatMap((entry) => (entry.kind === 'synced' ? [{ pods: entry.pods, info: entry.info }] : [])),
    events(sinceLastSync = false) {
      const from = sinceLastSync ? heard.findLastIndex((entry) => entry.kind === 'synced') + 1 : 0;
      return heard.slice(from).flatMap((entry) => (entry.kind === 'synced' ? [] : [`${entry.kind} ${nameOf(entry.pod)}`]));
    },
    stop,
  };
}

/** The stand-in's log of list (or watch) requests for a pods path. */
export function podRequests(requests: LoggedRequest[], kind: 'list' | 'watch', path = '/api/v1/namespaces/shop/pods'): LoggedRequest[] {
  return requests.filter((request) => request.method === 'GET' && request.path === path && (request.query.get('watch') === 'true') === (kind === 'watch'));
}
