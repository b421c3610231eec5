/**
 * The kubelet's own HTTP requests to a pod, for httpGet probes and httpGet lifecycle hooks:
 * - target: the pod's address (status.podIPs[0]) unless httpGet.host is set (kubernetes pkg/probe/http request.go
 *   NewRequestForHTTPGetAction); named ports are looked up among the container's own ports (resolvePort);
 * - source: the kubelet dials from the node's network namespace without binding an address, so the pod sees a node
 *   address (status.hostIP with most CNIs): here the request is bound to `localAddress`;
 * - headers: User-Agent `kube-probe/<major>.<minor>` or `kube-lifecycle/<major>.<minor>`, Accept `*\/*`, then the
 *   action's httpHeaders (request.go newProbeRequest, userAgent);
 * - probes: success when 200 <= status < 400, bounded by timeoutSeconds (pkg/probe/http http.go DoHTTPProbe);
 * - lifecycle hooks: the status code is ignored, only a transport error fails the hook, and the client has no
 *   timeout of its own (pkg/kubelet/lifecycle/handlers.go runHTTPHandler; kubernetes #56963): the caller bounds it,
 *   preStop by the grace period (kuberuntime_container.go executePreStopHook).
 * The body is read and dropped (the kubelet keeps at most 10 KiB of it). Redirects are not followed here: a probe's
 * 3xx counts as success either way (the kubelet's probe.Warning), and hooks ignore the status.
 */
import http from 'node:http';

/** The Kubernetes minor modelled, for the User-Agent. */
export const KUBE_VERSION = '1.35';

export interface HttpGetAction {
  path?: string;
  port: number | string;
  host?: string;
  scheme?: string;
  httpHeaders?: { name: string; value: string }[];
}

export interface KubeletRequest {
  /** Where the pod's port is reachable on this machine. */
  address: string;
  port: number;
  /** The node address the kubelet's request comes from. */
  localAddress: string;
  purpose: 'probe' | 'lifecycle';
  timeoutMs?: number;
}

export interface KubeletAnswer {
  status?: number;
  /** A transport error (refused, reset, timeout): the only way a lifecycle hook fails. */
  error?: string;
}

export function kubeletGet(action: HttpGetAction, request: KubeletRequest): Promise<KubeletAnswer> {
  if (action.host !== undefined) throw new Error('httpGet.host is not modelled (PSA baseline refuses it since 1.34)');
  if ((action.scheme ?? 'HTTP') !== 'HTTP') throw new Error(`httpGet.scheme ${action.scheme} is not modelled`);
  const headers: Record<string, string> = { 'User-Agent': `kube-${request.purpose}/${KUBE_VERSION}`, Accept: '*/*' };
  for (const header of action.httpHeaders ?? []) headers[header.name] = header.value;
  return new Promise((resolve) => {
    const outgoing = http.get(
      { host: request.address, port: request.port, path: action.path ?? '/', localAddress: request.localAddress, headers, agent: false, timeout: request.timeoutMs },
      (response) => {
        response.resume();
        response.on('end', () => resolve({ status: response.statusCode }));
        response.on('error', (error) => resolve({ error: error.message }));
      },
    );
    outgoing.on('timeout', () => outgoing.destroy(new Error(`timeout after ${request.timeoutMs}ms`)));
    outgoing.on('error', (error) => resolve({ error: error.message }));
  });
}

/** A probe's verdict on an answer (http.go: 200 <= code < 400 is success). */
export const probeSucceeded = (answer: KubeletAnswer): boolean => answer.status !== undefined && answer.status >= 200 && answer.status < 400;
