/**
 * A test's world: a sandbox CMDB, optionally a demo app, a pod's Downward API env and podinfo dir, and the container's
 * own temp folder (TMPDIR, where runs of one container coordinate); closed and removed after.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestContext } from 'node:test';
import { startDemoApp, type DemoApp, type DemoAppOptions } from './demo-app.ts';
import { baseFlags, downwardEnv, podinfoDir, type PodFixture } from './run-hook.ts';
import { startSandboxCmdb, type SandboxCmdb, type SandboxOptions } from './sandbox-cmdb.ts';

export interface Scene {
  cmdb: SandboxCmdb;
  app: DemoApp | undefined;
  env: Record<string, string>;
  podinfo: string;
  /** The container's temp folder: env.TMPDIR. */
  tmp: string;
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
  const tmp = mkdtempSync(join(tmpdir(), 'cmdb-hook-container-tmp-'));
  t.after(async () => {
    await Promise.all([cmdb.close(), app?.close()]);
    rmSync(podinfo, { recursive: true, force: true });
    rmSync(tmp, { recursive: true, force: true });
  });
  return { cmdb, app, env: { ...downwardEnv(options.pod), TMPDIR: tmp }, podinfo, tmp, flags: baseFlags(cmdb.url, podinfo) };
}
