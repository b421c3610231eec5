/**
 * Reading the rendered manifests of `cmdb-hook controller`: its command line, what its ServiceAccount may do, its
 * pod spec. Plain functions over what `kubectl kustomize` renders (render.ts), for test/e2e/manifests-controller.test.ts.
 */
import assert from 'node:assert/strict';
import type { IContainer, IPodSpec, IPodTemplateSpec } from 'kubernetes-models/v1';
import type { IPolicyRule, IRoleRef, ISubject } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { controllerCommand } from '../../../src/commands/controller.ts';
import { label, type KubeObject } from './render.ts';

/** The flags of `cmdb-hook controller`, from its option table. */
export const CONTROLLER_FLAGS: ReadonlySet<string> = new Set(controllerCommand.options.map((option) => option.flag));
/** The controller's flags that take no value. */
const BOOLEAN_FLAGS = new Set(controllerCommand.options.filter((option) => option.type === 'boolean').map((option) => option.flag));

export interface ControllerCommand {
  program: string;
  /** What `--node-options=` gives the single executable (V8 flags), when it comes first. */
  nodeOptions: string | undefined;
  subcommand: string;
  /** Each flag's values, in order (`--namespace` repeats); a boolean flag's value is 'true'. */
  flags: Map<string, string[]>;
  /** Arguments that are not a flag the controller has (a typo the command would refuse at start). */
  unknown: string[];
}

/** Splits `[program, 'controller', --flag value | --flag=value | --boolean ...]`. */
export function parseCommand(command: readonly string[]): ControllerCommand {
  const [program = '', ...after] = command;
  // The single executable's own first argument, before the subcommand: V8 flags for this process.
  const nodeOptions = after[0]?.startsWith('--node-options=') ? after.shift()?.slice('--node-options='.length) : undefined;
  const [subcommand = '', ...rest] = after;
  const flags = new Map<string, string[]>();
  const unknown: string[] = [];
  for (let index = 0; index < rest.length; index += 1) {
    const argument = rest[index] ?? '';
    const [name = '', inline] = argument.replace(/^--/, '').split(/=(.*)/s);
    if (!argument.startsWith('--') || !CONTROLLER_FLAGS.has(name)) {
      unknown.push(argument);
      continue;
    }
    const value = inline ?? (BOOLEAN_FLAGS.has(name) ? 'true' : rest[(index += 1)]);
    flags.set(name, [...(flags.get(name) ?? []), value ?? '']);
  }
  return { program, nodeOptions, subcommand, flags, unknown };
}

/** The CMDB_HOOK_* env var of a flag, back to the flag: `CMDB_HOOK_LOG_FILE` -> `log-file`. */
export const flagOfEnvVar = (name: string): string => name.replace(/^CMDB_HOOK_/, '').toLowerCase().replaceAll('_', '-');

/**
 * What the ServiceAccount may do, one line per verb: `<scope> <group>/<resource> <verb>[ <resourceNames>]`, scope
 * `cluster` (a ClusterRole through a ClusterRoleBinding) or `namespace` (through a RoleBinding). Sorted.
 */
export function permissions(objects: KubeObject[], serviceAccount: KubeObject): string[] {
  const lines: string[] = [];
  for (const binding of objects.filter((object) => object.kind === 'ClusterRoleBinding' || object.kind === 'RoleBinding')) {
    const { roleRef, subjects = [] } = binding as unknown as { roleRef: IRoleRef; subjects?: ISubject[] };
    const bound = subjects.some((subject) => subject.kind === 'ServiceAccount' && subject.name === serviceAccount.metadata.name
      && (subject.namespace ?? binding.metadata.namespace) === serviceAccount.metadata.namespace);
    if (!bound) continue;
    const role = objects.find((object) => object.kind === roleRef.kind && object.metadata.name === roleRef.name);
    assert.ok(role, `${label(binding)} binds ${roleRef.kind}/${roleRef.name}, which is not rendered`);
    const scope = binding.kind === 'ClusterRoleBinding' ? 'cluster' : 'namespace';
    for (const rule of (role as unknown as { rules?: IPolicyRule[] }).rules ?? []) {
      assert.equal(rule.nonResourceURLs, undefined, `${label(role)} grants nonResourceURLs`);
      const names = rule.resourceNames ? ` ${[...rule.resourceNames].sort().join(',')}` : '';
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          for (const verb of rule.verbs) lines.push(`${scope} ${group || 'core'}/${resource} ${verb}${names}`);
        }
      }
    }
  }
  return lines.sort();
}

/** The pod template of the controller's Deployment or CronJob. */
export function podTemplateOf(workload: KubeObject): IPodTemplateSpec {
  const spec = workload.spec as { template?: IPodTemplateSpec; jobTemplate?: { spec?: { template?: IPodTemplateSpec } } };
  const template = spec.template ?? spec.jobTemplate?.spec?.template;
  assert.ok(template?.spec, `${label(workload)} has no pod template`);
  return template;
}

export function controllerContainer(owner: string, pod: IPodSpec): IContainer {
  assert.equal(pod.containers.length, 1, `${owner}: expected one container, the controller`);
  const container = pod.containers[0] as IContainer;
  assert.equal(container.args, undefined, `${owner}: the whole command line belongs in command, so that one place shows it`);
  return container;
}

/** A probe's or Service's port, a number or a container port's name, as a number. */
export function resolvePort(owner: string, container: IContainer, port: number | string | undefined): number {
  if (typeof port === 'number') return port;
  const named = container.ports?.find((candidate) => candidate.name === port);
  assert.ok(named, `${owner}: port ${String(port)} names no port of container ${container.name}`);
  return named.containerPort;
}

/** A memory quantity (Ki, Mi, Gi or bytes) in MiB. */
export function mebibytes(quantity: string | number | undefined): number {
  const match = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi)?$/.exec(String(quantity ?? ''));
  assert.ok(match, `${String(quantity)} is not a memory quantity such as 256Mi`);
  const scale = { Ki: 1 / 1024, Mi: 1, Gi: 1024 }[match[2] as 'Ki' | 'Mi' | 'Gi'] ?? 1 / 1024 / 1024;
  return Number(match[1]) * scale;
}

/** Whether a selector's matchLabels all hold in `labels` (the manifests use matchLabels only). */
export function selects(selector: { matchLabels?: Record<string, string>; matchExpressions?: unknown[] } | undefined, labels: Record<string, string> | undefined): boolean {
  if (!selector?.matchLabels || selector.matchExpressions?.length) return false;
  return Object.entries(selector.matchLabels).every(([key, value]) => labels?.[key] === value);
}
