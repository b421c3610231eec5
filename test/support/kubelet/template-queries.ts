/**
 * Reading the pod templates of the rendered hook manifests (render.ts): the workloads' templates, their containers,
 * hook commands, flags and volumes. Each lookup fails with a line naming the workload and what is missing, for
 * test/e2e/manifests.test.ts and test/e2e/manifests-variants.test.ts.
 */
import assert from 'node:assert/strict';
import type { IContainer, IPodTemplateSpec, IVolume } from 'kubernetes-models/v1';
import { parseDuration } from '../../../src/settings/duration.ts';
import { label, type KubeObject } from './render.ts';

export function find<T>(objects: KubeObject[], kind: string, name: string): T {
  const object = objects.find((candidate) => candidate.kind === kind && candidate.metadata.name === name);
  assert.ok(object, `no ${kind}/${name} among the rendered objects ${objects.map(label).join(', ')}`);
  return object as T;
}

/** The pod templates of the workloads (after the schema check, so the shape is the schema's). */
export function podTemplates(objects: KubeObject[]): { owner: string; template: IPodTemplateSpec }[] {
  return objects
    .filter((object) => object.kind === 'Deployment' || object.kind === 'StatefulSet')
    .map((object) => ({ owner: label(object), template: (object as unknown as { spec: { template: IPodTemplateSpec } }).spec.template }));
}

export function appContainer(owner: string, template: IPodTemplateSpec): IContainer {
  const app = template.spec?.containers.find((container) => container.name === 'app');
  assert.ok(app, `${owner}: the pod template has no container named app`);
  return app;
}

/** The native sidecar running `cmdb-hook sidecar`: an init container with restartPolicy Always. */
export function sidecarContainer(owner: string, template: IPodTemplateSpec): IContainer {
  const sidecars = template.spec?.initContainers?.filter((container) => container.args?.[0] === 'sidecar' || container.command?.[1] === 'sidecar') ?? [];
  assert.equal(sidecars.length, 1, `${owner}: expected one init container running \`cmdb-hook sidecar\``);
  const sidecar = sidecars[0] as IContainer;
  assert.equal(sidecar.restartPolicy, 'Always', `${owner}: init container ${sidecar.name} needs restartPolicy Always to be a native sidecar`);
  return sidecar;
}

export function hookCommand(owner: string, container: IContainer, hook: 'postStart' | 'preStop'): string[] {
  const command = container.lifecycle?.[hook]?.exec?.command;
  assert.ok(command && command.length > 0, `${owner}: container ${container.name} has no lifecycle.${hook}.exec.command`);
  return command;
}

/** A hook duration (Go syntax, as cmdb-hook reads it) in seconds. */
export function seconds(duration: string): number {
  const parsed = parseDuration(duration);
  assert.ok(parsed.ok, `${JSON.stringify(duration)} is not a cmdb-hook duration such as 10s or 1m30s`);
  return parsed.ms / 1000;
}

/** The value of `--flag value` or `--flag=value` in a command line, if given. */
export function flagValue(command: string[], flag: string): string | undefined {
  for (const [index, argument] of command.entries()) {
    if (argument === flag) return command[index + 1];
    if (argument.startsWith(`${flag}=`)) return argument.slice(flag.length + 1);
  }
  return undefined;
}

export function volumeMountedAt(owner: string, template: IPodTemplateSpec, container: IContainer, path: string): IVolume {
  const mount = container.volumeMounts?.find((candidate) => candidate.mountPath === path);
  assert.ok(mount, `${owner}: container ${container.name} mounts nothing at ${path}`);
  const volume = template.spec?.volumes?.find((candidate) => candidate.name === mount.name);
  assert.ok(volume, `${owner}: the volume ${mount.name} mounted at ${path} is not among the pod's volumes`);
  return volume;
}
