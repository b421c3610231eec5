/** A test's world: a sandbox CMDB, optionally a demo app, a pod's Downward API env and podinfo dir; closed after. */
import { rmSync } from 'node:fs';
import type { TestContext } from 'node:test';
import { startDemoApp, type DemoApp, type DemoAppOptions } from './demo-app.ts';
import { baseFlags, downwardEnv, podinfoDir, type PodFixture } from './run-hook.ts';
import { startSandboxCmdb, type SandboxCmdb, type SandboxOptions } from './sandbox-cmdb.ts';

export interface Scene {
  cmdb: SandboxCmdb;
  app: DemoApp | undefined;
  env: Record<string, string>;
  podinfo: string;
  /** --cmdb-url, --cluster, --container app, --podinfo-dir. */
  flags: string[];
}

export interface SceneOptions {
  cmdb?: SandboxOptions;
  app?: DemoAppOptions;
  pod?: PodFixture;
  labels?: string;
  annotations?: string;
}

export async function scene(t: TestContext, options: SceneOptions = {}): Promise<Scene> {
  const cmdb = await startSandboxCmdb(options.cmdb);
  const app = options.app ? await startDemoApp(options.app) : undefined;
  const podinfo = podinfoDir({ labels: options.labels ?? 'app="shop"', annotations: options.annotations ?? '' });
  t.after(async () => {
    await Promise.all([cmdb.close(), app?.close()]);
    rmSync(podinfo, { recursive: true, force: true });
  });
  return { cmdb, app, env: downwardEnv(options.pod), podinfo, flags: baseFlags(cmdb.url, podinfo) };
}
