/**
 * The controller's Kubernetes client (src/cluster/kube) against the API stand-in, the way the controller will meet a
 * real server: a kubeconfig file written for the stand-in (HTTPS, its CA, its token), loaded through --kubeconfig.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { createKubeClient, type KubeClient } from '../../src/cluster/kube/api-client.ts';
import { loadKubeConnection } from '../../src/cluster/kube/kube-config.ts';
import type { Certificates } from './certificates.ts';
import { startKubeApi, type KubeApi, type KubeApiOptions } from './kube-api/kube-api-stand-in.ts';

export function tempDir(prefix = 'cmdb-hook-kube-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** A stand-in and a client for it, both closed after the test. */
export async function standInWithClient(t: TestContext, certificates: Certificates, options: KubeApiOptions = {}): Promise<{ api: KubeApi; client: KubeClient; kubeconfig: string }> {
  const api = await startKubeApi({ certificates, terminationDelayMs: null, ...options });
  const kubeconfig = api.writeKubeconfig(tempDir());
  const client = createKubeClient(loadKubeConnection({ kubeconfig, env: {} }), { timeoutMs: 5000 });
  t.after(async () => {
    client.close();
    await api.close();
  });
  return { api, client, kubeconfig };
}

/** Waits until `check` returns something other than undefined, polling; fails with `what` after `timeoutMs`. */
export async function eventually<T>(what: string, check: () => T | undefined, timeoutMs = 5000): Promise<T> {
  const until = performance.now() + timeoutMs;
  for (;;) {
    const value = check();
    if (value !== undefined) return value;
    if (performance.now() > until) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
