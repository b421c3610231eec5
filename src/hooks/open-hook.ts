import type { CmdbBackend } from '../cmdb/backend.ts';
import type { CmdbSetup } from '../cmdb/factory.ts';
import type { HookConfig } from '../config/hook-config.ts';
import { readPodIdentity, type PodIdentity } from '../pod/identity.ts';
import type { RunContext } from '../run-context.ts';

/** What every hook run works with: its config, who the pod is, and the CMDB backend, opened once. */
export interface Hook {
  readonly config: HookConfig;
  readonly pod: PodIdentity;
  readonly backend: CmdbBackend;
  /** The most one CMDB attempt may take (--request-timeout). */
  readonly requestTimeoutMs: number;
}

/**
 * The prologue of every hook run: who the pod is (Downward API), named in messages from here on, then the backend
 * (which reads its token and template files now, so a rotated Secret takes effect at the next run).
 */
export function openHook(config: HookConfig, cmdb: CmdbSetup, context: RunContext): Hook {
  const pod = readPodIdentity(config, context.env);
  context.subject = `${pod.namespace}/${pod.name} container ${config.container}`;
  for (const note of pod.notes) context.log.debug(note);
  context.log.debug({ pod: { name: pod.name, uid: pod.uid, namespace: pod.namespace, ip: pod.ip } }, 'pod identity');
  return { config, pod, backend: cmdb.open(), requestTimeoutMs: cmdb.connection.requestTimeoutMs };
}
