// What this proves about the queue variants of manifests/controller/ (the publisher, `controller --sink`, and the
// consumer Deployment, `consume --source`), rendered with the real `kubectl kustomize`: every object passes its
// Kubernetes schema with no unknown field, and
//   - the command is the image's entrypoint with every flag one that subcommand has, naming the broker;
//   - the broker's secret is a file of a rendered Secret (the token or password file the flag names lies in a
//     mount of that Secret, which has the key), never an env var or a flag value;
//   - the publisher gets no CMDB setting at all (--sink refuses them) but the hooks' --cluster, and keeps the
//     controller's RBAC; the consumer gets the hooks' CMDB settings and token file, no Kubernetes API token;
//   - probes reach the port of --listen.
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { describe, test } from 'node:test';
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import { consumeCommand } from '../../src/commands/consume.ts';
import { controllerCommand } from '../../src/commands/controller.ts';
import { parseListenAddress } from '../../src/settings/listen-address.ts';
import * as manifest from '../support/kubelet/controller-manifest.ts';
import { label, render, type KubeObject } from '../support/kubelet/render.ts';
import { schemaError, unknownFields } from '../support/kubelet/schema.ts';

const VARIANTS = [
  { dir: 'controller/publish-nats', subcommand: 'controller', broker: 'nats', secretFlag: 'nats-token-file', secret: 'cmdb-hook-nats' },
  { dir: 'controller/publish-rabbitmq', subcommand: 'controller', broker: 'rabbitmq', secretFlag: 'amqp-password-file', secret: 'cmdb-hook-amqp' },
  { dir: 'controller/consume', subcommand: 'consume', broker: 'nats', secretFlag: 'nats-token-file', secret: 'cmdb-hook-nats' },
  { dir: 'controller/consume-rabbitmq', subcommand: 'consume', broker: 'rabbitmq', secretFlag: 'amqp-password-file', secret: 'cmdb-hook-amqp' },
] as const;

const OPTIONS = { controller: controllerCommand.options, consume: consumeCommand.options };

/** `[program, subcommand, --flag value | --flag=value | --boolean ...]` against that subcommand's own flags. */
function parse(command: readonly string[], subcommand: keyof typeof OPTIONS) {
  const known = new Map(OPTIONS[subcommand].map((option) => [option.flag, option.type]));
  const [program = '', ...after] = command;
  // The single executable's own first argument, before the subcommand: V8 flags for this process.
  const nodeOptions = after[0]?.startsWith('--node-options=') ? after.shift()?.slice('--node-options='.length) : undefined;
  const [sub = '', ...rest] = after;
  const flags = new Map<string, string>();
  const unknown: string[] = [];
  for (let index = 0; index < rest.length; index += 1) {
    const argument = rest[index] ?? '';
    const [name = '', inline] = argument.replace(/^--/, '').split(/=(.*)/s);
    if (!argument.startsWith('--') || !known.has(name)) unknown.push(argument);
    else flags.set(name, inline ?? (known.get(name) === 'boolean' ? 'true' : (rest[(index += 1)] ?? '')));
  }
  return { program, nodeOptions, sub, flags, unknown };
}

/** The rendered Secret a file path lies in (through the container's mounts and the pod's volumes), and its key. */
function secretOfFile(objects: KubeObject[], pod: IPodSpec, container: IContainer, file: string) {
  const mount = container.volumeMounts?.find((candidate) => candidate.mountPath === posix.dirname(file));
  const volume = pod.volumes?.find((candidate) => candidate.name === mount?.name)?.secret;
  const key = volume?.items?.find((item) => item.path === posix.basename(file))?.key ?? posix.basename(file);
  const secret = objects.find((object) => object.kind === 'Secret' && object.metadata.name === volume?.secretName) as { stringData?: Record<string, string>; data?: Record<string, string> } | undefined;
  return { name: volume?.secretName, has: secret !== undefined && key in { ...secret.stringData, ...secret.data } };
}

for (const { dir, subcommand, broker, secretFlag, secret } of VARIANTS) {
  describe(`manifests/${dir}`, () => {
    const objects = render(dir);
    const workload = objects.find((object) => object.kind === 'Deployment') as KubeObject;
    const owner = label(workload);
    const pod = manifest.podTemplateOf(workload).spec as IPodSpec;
    const [container] = pod.containers;
    assert.ok(container, `${owner} has a container`);
    const command = parse(container.command ?? [], subcommand);
    const env = (name: string) => container.env?.find((variable) => variable.name === name);

    test('every object passes its Kubernetes schema and has no unknown field', () => {
      for (const object of objects) {
        assert.equal(schemaError(object), undefined, `${label(object)} fails its Kubernetes schema`);
        assert.deepEqual(unknownFields(object), [], `${label(object)} has fields the API server would refuse`);
      }
    });

    test(`runs cmdb-hook ${subcommand} with its own flags, naming ${broker}`, () => {
      assert.equal(command.program, '/opt/cmdb-hook/cmdb-hook');
      assert.equal(command.sub, subcommand);
      assert.equal(command.nodeOptions, '--lite-mode', `${dir}: a long-running mode runs with V8's lite mode (memory over speed)`);
      assert.deepEqual(command.unknown, [], `${owner} passes arguments ${subcommand} does not have`);
      assert.equal(command.flags.get(subcommand === 'controller' ? 'sink' : 'source'), broker);
      for (const variable of container.env ?? []) {
        if (variable.name.startsWith('CMDB_HOOK_')) assert.ok(OPTIONS[subcommand].some((option) => option.flag === manifest.flagOfEnvVar(variable.name)), `${owner}: ${variable.name} is no ${subcommand} setting`);
      }
    });

    test(`the ${broker} secret is a file of the Secret ${secret}`, () => {
      const file = command.flags.get(secretFlag) ?? '';
      assert.ok(file.startsWith('/'), `${owner} names no --${secretFlag}`);
      assert.deepEqual(secretOfFile(objects, pod, container, file), { name: secret, has: true }, `${owner}: ${file} is not a key of the Secret ${secret}`);
      assert.ok(!container.env?.some((variable) => variable.valueFrom?.secretKeyRef) && !container.envFrom?.some((source) => source.secretRef), `${owner}: secrets stay files`);
      const url = command.flags.get(broker === 'nats' ? 'nats-url' : 'amqp-url') ?? '';
      assert.ok(url && !/:[^/@]*@/.test(url), `${owner}: the broker URL must carry no password: ${url}`);
    });

    if (subcommand === 'controller') {
      test('no CMDB setting, the hooks\' --cluster, the controller\'s RBAC', () => {
        assert.equal(container.envFrom, undefined, `${owner}: the hooks' ConfigMap would hand it CMDB settings --sink refuses`);
        assert.ok(![...command.flags.keys()].some((flag) => flag.startsWith('cmdb-')), `${owner} passes CMDB flags`);
        assert.deepEqual(env('CMDB_HOOK_CLUSTER')?.valueFrom?.configMapKeyRef, { name: 'cmdb-hook', key: 'CMDB_HOOK_CLUSTER' });
        const account = objects.find((object) => object.kind === 'ServiceAccount') as KubeObject;
        assert.equal(pod.serviceAccountName, account.metadata.name);
        const wanted = ['core/events create', 'core/pods get', 'core/pods list', 'core/pods watch', 'core/pods/status patch'].map((rule) => `cluster ${rule}`);
        const lease = ['coordination.k8s.io/leases create', 'coordination.k8s.io/leases get cmdb-hook-controller', 'coordination.k8s.io/leases update cmdb-hook-controller'].map((rule) => `namespace ${rule}`);
        assert.deepEqual(manifest.permissions(objects, account), [...wanted, ...lease].sort());
      });
    } else {
      test('the hooks\' CMDB settings and token file; no Kubernetes API token', () => {
        const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === container.envFrom?.[0]?.configMapRef?.name) as { data?: Record<string, string> } | undefined;
        const settings = configMap?.data ?? {};
        for (const required of ['CMDB_HOOK_CMDB_URL', 'CMDB_HOOK_CLUSTER', 'CMDB_HOOK_CMDB_TOKEN_FILE']) assert.ok(settings[required], `${owner}: its ConfigMap sets no ${required}`);
        assert.deepEqual(secretOfFile(objects, pod, container, settings.CMDB_HOOK_CMDB_TOKEN_FILE ?? ''), { name: 'cmdb-hook-token', has: true });
        assert.equal(env('CMDB_HOOK_LOG_FILE')?.value, '', `${owner} is PID 1: a log file at /proc/1/fd/* would print each line twice`);
        assert.equal(pod.automountServiceAccountToken, false);
        assert.ok(!objects.some((object) => /Role|ServiceAccount/.test(object.kind)), 'no RBAC for a process that never calls the API');
      });
    }

    test('probes on --listen; non-root, read-only, no capabilities', () => {
      const listen = parseListenAddress('listen', command.flags.get('listen') ?? '');
      for (const [probe, path] of [['livenessProbe', '/healthz'], ['readinessProbe', '/readyz']] as const) {
        const httpGet: { path?: string; port?: number | string } | undefined = container[probe]?.httpGet;
        assert.equal(httpGet?.path, path);
        assert.equal(manifest.resolvePort(owner, container, httpGet?.port), listen.port, `${owner}: ${probe} misses --listen's port`);
      }
      assert.equal(pod.securityContext?.runAsNonRoot, true);
      assert.equal(container.securityContext?.readOnlyRootFilesystem, true);
      assert.equal(container.securityContext?.allowPrivilegeEscalation, false);
      assert.deepEqual(container.securityContext?.capabilities?.drop, ['ALL']);
    });
  });
}
