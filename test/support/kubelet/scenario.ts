/**
 * What the kubelet scenarios share: the image folders (one carrying the agent at /opt/cmdb-hook, put there by the
 * agent's own `install` as the cmdb-hook image has it; one bare), the demo app standing in for the app image's
 * entrypoint, and a cluster of pods from the project's manifests against the sandbox CMDB, with the ways a scenario
 * reads the CMDB's state of a pod.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, type TestContext } from 'node:test';
import { runHook } from '../run-hook.ts';
import { startSandboxCmdb, type SandboxCmdb } from '../sandbox-cmdb.ts';
import type { ContainerSpec } from './environment.ts';
import { Pod, type PodOptions } from './pod.ts';
import { render } from './render.ts';

const DEMO_APP = new URL('../demo-app.ts', import.meta.url).pathname;
export const CMDB_IN_MANIFESTS = 'https://cmdb.example.com/api/v1/instances';
export const TOKEN_IN_MANIFESTS = 'replace-me';
/** The cmdb-hook image's ENTRYPOINT (the Dockerfile's). */
export const AGENT_ENTRYPOINT = ['/opt/cmdb-hook/cmdb-hook'];

/** Image folders for the test file, removed after it: `withAgent` as the cmdb-hook image lays it out, `bare` empty. */
export async function imageFolders(): Promise<{ withAgent: string; bare: string }> {
  const withAgent = mkdtempSync(join(tmpdir(), 'cmdb-hook-image-'));
  const run = await runHook(['install', join(withAgent, 'opt', 'cmdb-hook')]);
  assert.equal(run.code, 0, run.stderr);
  const bare = mkdtempSync(join(tmpdir(), 'cmdb-hook-image-bare-'));
  after(() => [withAgent, bare].forEach((dir) => rmSync(dir, { recursive: true, force: true })));
  return { withAgent, bare };
}

/**
 * The stand-in for the app image's entrypoint: the demo app on the loopback port the pod got for 8080. Other
 * containers (a sidecar from the cmdb-hook image) run their image's own entrypoint.
 */
export function app(readyAfter: string, mode = 'normal', ...extra: string[]) {
  return (container: ContainerSpec, ports: Record<number, number>) =>
    container.name === 'app' ? [process.execPath, DEMO_APP, '--port', String(ports[8080]), '--ready-after', readyAfter, '--mode', mode, ...extra] : undefined;
}

/** The sandbox CMDB and a way to run pods against it; everything is stopped after the test. */
export async function cluster(t: TestContext, images: PodOptions['images']) {
  const cmdb = await startSandboxCmdb({ token: TOKEN_IN_MANIFESTS });
  const pods: Pod[] = [];
  t.after(async () => {
    await Promise.all(pods.map((pod) => pod.cleanup()));
    await cmdb.close();
  });
  const pod = (options: Partial<PodOptions> & Pick<PodOptions, 'name' | 'entrypoint'>) => {
    const created = new Pod({ objects: render('base'), workload: 'Deployment/shop-web', ip: `10.244.${pods.length + 1}.17`, images, rewrites: [[CMDB_IN_MANIFESTS, cmdb.url]], ...options });
    pods.push(created);
    return created;
  };
  return { cmdb, pod };
}

export const recordOf = (cmdb: SandboxCmdb, pod: Pod) => cmdb.records.get(`${pod.facts.uid}_app`);
export const readyAt = (pod: Pod) => (JSON.parse(pod.logs('app').split('\n').find((line) => line.includes('"event":"ready"')) ?? '{}') as { at?: number }).at;
export const writesOf = (cmdb: SandboxCmdb, pod: Pod) => cmdb.writes().filter((write) => write.path.includes(pod.facts.uid));
/** The pod's record over time, as the CMDB answered each write: 201 created, 200 replaced, 204 deleted, 0 never answered. */
export const historyOf = (cmdb: SandboxCmdb, pod: Pod) => writesOf(cmdb, pod).map((write) => `${write.method} ${write.status}`);
