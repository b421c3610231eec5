/**
 * The kubelet adds its own bookkeeping to its copy of a pod: `kubernetes.io/config.seen` (when it first saw the pod)
 * and `kubernetes.io/config.source` (api, file, http), and for static pods `kubernetes.io/config.hash` and, on the
 * mirror pod, `kubernetes.io/config.mirror` (kubernetes pkg/kubelet/types). The downwardAPI volume's annotations file
 * is written from that copy, so it carries them, while the API object of an ordinary pod does not. They describe the
 * kubelet, not the pod: the record leaves them out, so the hook (Downward API) and the controller (API object) build
 * the same annotations for the same pod.
 */
const KUBELET_PREFIX = 'kubernetes.io/config.';

export function withoutKubeletAnnotations(annotations: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(annotations).filter(([key]) => !key.startsWith(KUBELET_PREFIX)));
}
