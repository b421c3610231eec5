/**
 * A kubeconfig for the stand-in, as kubectl and client libraries read it (docs: concepts/configuration/organize-
 * cluster-access-kubeconfig; reference/config-api/kubeconfig.v1): one cluster with the server URL and the CA that
 * signed its certificate inline (certificate-authority-data, base64 PEM), one user with a bearer token, one context
 * that is current. Written as JSON, which every kubeconfig reader accepts (JSON is YAML), with mode 0600.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface KubeconfigOptions {
  server: string;
  /** The CA certificate, PEM. */
  ca: string;
  token: string;
  namespace?: string;
  /** The name of the cluster, user and context. */
  name?: string;
}

export function kubeconfigOf(options: KubeconfigOptions): Record<string, unknown> {
  const name = options.name ?? 'stand-in';
  return {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name, cluster: { server: options.server, 'certificate-authority-data': Buffer.from(options.ca).toString('base64') } }],
    users: [{ name, user: { token: options.token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: options.namespace ?? 'default' } }],
    'current-context': name,
    preferences: {},
  };
}

/** Writes `<dir>/kubeconfig` and returns its path. */
export function writeKubeconfig(dir: string, options: KubeconfigOptions): string {
  const path = join(dir, 'kubeconfig');
  writeFileSync(path, `${JSON.stringify(kubeconfigOf(options), null, 2)}\n`, { mode: 0o600 });
  return path;
}
