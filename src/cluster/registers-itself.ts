/**
 * Whether a pod registers its own records: a container whose postStart hook runs cmdb-hook (the exec hook, or the
 * shipped `post-start` script), or a native sidecar (an init container with restartPolicy Always) running it: its
 * command or args name it, or its image is cmdb-hook's (the image's entrypoint is the agent, so the manifest's args
 * start with `sidecar` and name no program). For
 * such a pod the controller does not write on a watch event: the hook writes the record moments after the app is
 * ready, and a controller racing it would double every write of a rollout. A later full pass, which lists the CMDB
 * first, writes what the hook did not (a postStart that failed open, a skipped hook).
 */
import type { Pod } from './kube/pod-cache.ts';

const MENTIONS_AGENT = /cmdb-hook|(^|\/)post-start$/;

const mentions = (words: readonly string[] | undefined) => (words ?? []).some((word) => MENTIONS_AGENT.test(word));

/** The repository's last path segment, without tag or digest: `registry:5000/ops/cmdb-hook:0.1.0` -> `cmdb-hook`. */
const imageName = (image: string) => image.replace(/@.*$/, '').replace(/:[^/]*$/, '').split('/').at(-1) ?? '';

export function registersItself(pod: Pod): boolean {
  const spec = pod.spec;
  if (!spec) return false;
  if (spec.containers.some((container) => mentions(container.lifecycle?.postStart?.exec?.command))) return true;
  return (spec.initContainers ?? []).some((container) => container.restartPolicy === 'Always' && (mentions(container.command) || mentions(container.args) || imageName(container.image ?? '') === 'cmdb-hook'));
}
