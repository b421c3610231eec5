/**
 * A container's environment as its process gets it here: resolved from the manifests (environment.ts), each value
 * mapped onto this machine (`mapValue`: paths and ports), plus what the runtime adds (PATH, HOSTNAME, TMPDIR).
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { resolveEnv, type ContainerSpec, type PodFacts } from './environment.ts';
import type { PodFiles } from './pod-files.ts';
import type { KubeObject } from './render.ts';

export function containerEnv(spec: ContainerSpec, pod: { facts: PodFacts; objects: KubeObject[]; files: PodFiles; mapValue(spec: ContainerSpec, value: string): string }): Record<string, string> {
  const resolved = resolveEnv(spec, pod.facts, pod.objects);
  const mapped = Object.fromEntries(Object.entries(resolved).map(([key, value]) => [key, pod.mapValue(spec, value)]));
  // An image with Node has the pinned one first on PATH (the bundled agent's `#!/usr/bin/env node` needs it);
  // one without gets an empty folder, so nothing of this machine's own PATH leaks in.
  const image = pod.files.image(spec);
  const path = image.node ? `${dirname(process.execPath)}:/usr/local/bin:/usr/bin:/bin` : join(image.root, 'bin');
  // The container's own temp folder, kept across restarts in the pod (as an emptyDir at /tmp would be).
  const tmp = join(pod.files.root, 'tmp', spec.name);
  mkdirSync(tmp, { recursive: true });
  return { PATH: path, HOSTNAME: pod.facts.name, TMPDIR: tmp, ...mapped };
}
