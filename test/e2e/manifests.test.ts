// What this proves about manifests/: every kustomize directory renders with the real `kubectl kustomize`, and the
// objects it renders
//   1. pass Kubernetes' own schema (kubernetes-models' validators; negative case: a wrong type is refused);
//   2. carry no unknown field (the API server's strict field validation would refuse a typo such as `lifecyle`,
//      which kubernetes-models' validation lets through; negative case: typos planted in a copy are reported);
//   3. keep the hook invariants: both hook commands present, comma- and JSON-free, calling the binary with
//      register / deregister; the 7 Downward API env vars; the podinfo volume; the token as a mounted file only;
//      a grace period longer than the preStop --timeout;
//   4. (inject) the init container installs the binary into an emptyDir that the app mounts at /opt/cmdb-hook (the
//      single executable's loader path is fixed there) and its hooks call.
// Checks 1 and 2 are test/support/kubelet/schema.ts; manifests-controller.test.ts covers manifests/controller.
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { describe, test } from 'node:test';
import type { IConfigMap, IContainer, IPodTemplateSpec, ISecret, IVolume } from 'kubernetes-models/v1';
import { parseDuration } from '../../src/settings/duration.ts';
import { label, render, type KubeObject } from '../support/kubelet/render.ts';
import { schemaError, unknownFields } from '../support/kubelet/schema.ts';

/** Each directory, the objects it must render (kind/name), and where its hook binary lives. */
const DIRECTORIES = [
  { dir: '.', objects: ['ConfigMap/cmdb-hook', 'Secret/cmdb-hook-token', 'Deployment/shop-web'], binary: '/opt/cmdb-hook/cmdb-hook' },
  { dir: 'base', objects: ['ConfigMap/cmdb-hook', 'Secret/cmdb-hook-token', 'Deployment/shop-web'], binary: '/opt/cmdb-hook/cmdb-hook' },
  {
    dir: 'variants/statefulset',
    objects: ['ConfigMap/cmdb-hook', 'Secret/cmdb-hook-token', 'Service/web', 'StatefulSet/web'],
    binary: '/opt/cmdb-hook/cmdb-hook',
  },
  { dir: 'variants/inject', objects: ['ConfigMap/cmdb-hook', 'Secret/cmdb-hook-token', 'Deployment/shop-web'], binary: '/opt/cmdb-hook/cmdb-hook' },
];

const DOWNWARD_API_ENV: Record<string, string> = {
  POD_NAME: 'metadata.name',
  POD_NAMESPACE: 'metadata.namespace',
  POD_UID: 'metadata.uid',
  POD_IP: 'status.podIP',
  POD_IPS: 'status.podIPs',
  NODE_NAME: 'spec.nodeName',
  HOST_IP: 'status.hostIP',
};

/** deregister's --timeout when the flag is absent (README flags table); the pod default grace period is 30s. */
const DEREGISTER_DEFAULT_TIMEOUT_S = 10;
const DEFAULT_GRACE_PERIOD_S = 30;

function find<T>(objects: KubeObject[], kind: string, name: string): T {
  const object = objects.find((candidate) => candidate.kind === kind && candidate.metadata.name === name);
  assert.ok(object, `no ${kind}/${name} among the rendered objects ${objects.map(label).join(', ')}`);
  return object as T;
}

/** The pod templates of the workloads (after check 1, so the shape is the schema's). */
function podTemplates(objects: KubeObject[]): { owner: string; template: IPodTemplateSpec }[] {
  return objects
    .filter((object) => object.kind === 'Deployment' || object.kind === 'StatefulSet')
    .map((object) => ({ owner: label(object), template: (object as unknown as { spec: { template: IPodTemplateSpec } }).spec.template }));
}

// ---------------------------------------------------------------------------------------------------------------
// Check 3 helpers

function appContainer(owner: string, template: IPodTemplateSpec): IContainer {
  const app = template.spec?.containers.find((container) => container.name === 'app');
  assert.ok(app, `${owner}: the pod template has no container named app`);
  return app;
}

function hookCommand(owner: string, container: IContainer, hook: 'postStart' | 'preStop'): string[] {
  const command = container.lifecycle?.[hook]?.exec?.command;
  assert.ok(command && command.length > 0, `${owner}: container ${container.name} has no lifecycle.${hook}.exec.command`);
  return command;
}

/** A hook duration (Go syntax, as cmdb-hook reads it) in seconds. */
function seconds(duration: string): number {
  const parsed = parseDuration(duration);
  assert.ok(parsed.ok, `${JSON.stringify(duration)} is not a cmdb-hook duration such as 10s or 1m30s`);
  return parsed.ms / 1000;
}

/** The value of `--flag value` or `--flag=value` in a hook command, if given. */
function flagValue(command: string[], flag: string): string | undefined {
  for (const [index, argument] of command.entries()) {
    if (argument === flag) return command[index + 1];
    if (argument.startsWith(`${flag}=`)) return argument.slice(flag.length + 1);
  }
  return undefined;
}

function volumeMountedAt(owner: string, template: IPodTemplateSpec, container: IContainer, path: string): IVolume {
  const mount = container.volumeMounts?.find((candidate) => candidate.mountPath === path);
  assert.ok(mount, `${owner}: container ${container.name} mounts nothing at ${path}`);
  const volume = template.spec?.volumes?.find((candidate) => candidate.name === mount.name);
  assert.ok(volume, `${owner}: the volume ${mount.name} mounted at ${path} is not among the pod's volumes`);
  return volume;
}

// ---------------------------------------------------------------------------------------------------------------
// The tests

for (const { dir, objects: expected, binary } of DIRECTORIES) {
  describe(`manifests/${dir}`, () => {
    test('renders the expected objects, with no namespace', () => {
      const rendered = render(dir).map(label).sort();
      assert.deepEqual(rendered, [...expected].sort(), `manifests/${dir} renders ${rendered.join(', ')}, not ${expected.join(', ')}`);
      for (const object of render(dir)) {
        assert.equal(object.metadata.namespace, undefined, `${label(object)} sets a namespace; users choose it`);
      }
    });

    test('check 1: every object passes its Kubernetes schema', () => {
      for (const object of render(dir)) {
        const error = schemaError(object);
        assert.equal(error, undefined, `${label(object)} fails its Kubernetes schema: ${error}`);
      }
    });

    test('check 2: no object has a field its schema does not declare', () => {
      for (const object of render(dir)) {
        const unknown = unknownFields(object);
        assert.deepEqual(unknown, [], `${label(object)} has fields the API server would refuse as unknown: ${unknown.join(', ')}`);
      }
    });

    test('check 3: the hooks, Downward API, podinfo, token and grace period hold', () => {
      const objects = render(dir);
      const templates = podTemplates(objects);
      assert.ok(templates.length > 0, `manifests/${dir} renders no workload with a pod template`);
      for (const { owner, template } of templates) {
        const app = appContainer(owner, template);

        // Hook commands: the binary, the subcommand, nothing a platform could split or a reader mistake for JSON.
        for (const [hook, subcommand] of [['postStart', 'register'], ['preStop', 'deregister']] as const) {
          const command = hookCommand(owner, app, hook);
          assert.equal(command[0], binary, `${owner}: the ${hook} command does not start with ${binary}`);
          assert.equal(command[1], subcommand, `${owner}: the ${hook} command runs ${command[1]}, not ${subcommand}`);
          for (const argument of command) {
            assert.ok(!argument.includes(',') && !argument.includes('{'), `${owner}: the ${hook} argument ${JSON.stringify(argument)} holds a comma or a {`);
          }
        }
        const container = app.env?.find((variable) => variable.name === 'CMDB_HOOK_CONTAINER');
        assert.equal(container?.value, app.name, `${owner}: CMDB_HOOK_CONTAINER must name the container (${app.name})`);

        // Pod identity from the Downward API.
        for (const [name, fieldPath] of Object.entries(DOWNWARD_API_ENV)) {
          const variable = app.env?.find((candidate) => candidate.name === name);
          assert.ok(variable, `${owner}: env var ${name} is missing`);
          assert.equal(variable.valueFrom?.fieldRef?.fieldPath, fieldPath, `${owner}: env var ${name} must come from fieldRef ${fieldPath}`);
        }

        // All labels and annotations, through the podinfo downwardAPI volume.
        const podinfo = volumeMountedAt(owner, template, app, '/etc/podinfo');
        const items = podinfo.downwardAPI?.items?.map((item) => `${item.path}=${item.fieldRef?.fieldPath}`) ?? [];
        for (const wanted of ['labels=metadata.labels', 'annotations=metadata.annotations']) {
          assert.ok(items.includes(wanted), `${owner}: the downwardAPI volume at /etc/podinfo lacks the item ${wanted} (has ${items.join(', ')})`);
        }

        // The token: a file from the Secret, at the path the ConfigMap names; never an env var.
        const configMapName = app.envFrom?.find((source) => source.configMapRef)?.configMapRef?.name;
        assert.ok(configMapName, `${owner}: container app takes no envFrom configMapRef`);
        const tokenFile = find<IConfigMap>(objects, 'ConfigMap', configMapName).data?.CMDB_HOOK_CMDB_TOKEN_FILE;
        assert.ok(tokenFile, `${owner}: ConfigMap ${configMapName} sets no CMDB_HOOK_CMDB_TOKEN_FILE`);
        const tokenVolume = volumeMountedAt(owner, template, app, posix.dirname(tokenFile));
        const secretName = tokenVolume.secret?.secretName;
        assert.ok(secretName, `${owner}: the volume at ${posix.dirname(tokenFile)} is not a Secret volume`);
        const secret = find<ISecret>(objects, 'Secret', secretName);
        const fileName = posix.basename(tokenFile);
        const keys = tokenVolume.secret?.items?.filter((item) => item.path === fileName).map((item) => item.key) ?? [fileName];
        assert.equal(keys.length, 1, `${owner}: the Secret volume does not project exactly one key to ${fileName}`);
        const key = keys[0] ?? '';
        const token = secret.stringData?.[key] ?? secret.data?.[key];
        assert.ok(token, `${owner}: Secret ${secretName} has no key ${key} for ${tokenFile}`);
        assert.ok(!app.env?.some((variable) => variable.valueFrom?.secretKeyRef), `${owner}: an env var reads a Secret; the token must stay a file`);
        assert.ok(!app.envFrom?.some((source) => source.secretRef), `${owner}: envFrom reads a Secret; the token must stay a file`);
        assert.ok(!app.env?.some((variable) => variable.value === token), `${owner}: an env var holds the token's value`);

        // The grace period starts before preStop, so it must outlast deregister's whole deadline.
        const timeout = flagValue(hookCommand(owner, app, 'preStop'), '--timeout');
        const preStopSeconds = timeout === undefined ? DEREGISTER_DEFAULT_TIMEOUT_S : seconds(timeout);
        const grace = template.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_S;
        assert.ok(grace > preStopSeconds, `${owner}: terminationGracePeriodSeconds ${grace} is not larger than the preStop --timeout ${preStopSeconds}s`);
      }
    });
  });
}

describe('manifests/variants/inject', () => {
  test('check 4: the init container installs into an emptyDir that the app mounts at /opt/cmdb-hook and its hooks call', () => {
    for (const { owner, template } of podTemplates(render('variants/inject'))) {
      const installers = template.spec?.initContainers?.filter((container) => container.command?.[1] === 'install') ?? [];
      assert.equal(installers.length, 1, `${owner}: expected one init container running \`cmdb-hook install <dir>\``);
      const installer = installers[0] as IContainer;
      const [program = '', , dir = '', ...rest] = installer.command ?? [];
      assert.equal(posix.basename(program), 'cmdb-hook', `${owner}: init container ${installer.name} does not run cmdb-hook`);
      assert.ok(dir.startsWith('/') && rest.length === 0, `${owner}: init container ${installer.name} must run \`cmdb-hook install <absolute dir>\``);

      const volume = volumeMountedAt(owner, template, installer, dir);
      assert.ok(volume.emptyDir, `${owner}: the volume ${volume.name} at ${dir} is not an emptyDir`);
      const app = appContainer(owner, template);
      const appMount = app.volumeMounts?.find((mount) => mount.name === volume.name);
      assert.ok(appMount, `${owner}: container app does not mount the volume ${volume.name}`);
      // The executable's ELF interpreter is /opt/cmdb-hook/lib/ld-linux-x86-64.so.2: the copy must appear there.
      assert.equal(appMount.mountPath, '/opt/cmdb-hook', `${owner}: container app mounts ${volume.name} at ${appMount.mountPath}, not at /opt/cmdb-hook`);
      assert.equal(appMount.readOnly, true, `${owner}: container app should mount ${volume.name} readOnly`);
      for (const hook of ['postStart', 'preStop'] as const) {
        const command = hookCommand(owner, app, hook);
        assert.equal(command[0], posix.join(appMount.mountPath, 'cmdb-hook'), `${owner}: the ${hook} command does not run the binary installed into ${volume.name}`);
      }
    }
  });
});

describe('the checks themselves', () => {
  const deployment = (): KubeObject & { spec: { replicas?: unknown; template: { spec: { containers: Record<string, unknown>[] } } } } =>
    structuredClone(find(render('base'), 'Deployment', 'shop-web'));

  test('check 1 refuses a wrong type', () => {
    const broken = deployment();
    broken.spec.replicas = 'two';
    assert.match(schemaError(broken) ?? 'no error', /\/spec\/replicas must be integer/, 'replicas: "two" passed the Deployment schema');
  });

  test('check 2 reports misspelt and misplaced fields, and nothing else', () => {
    const broken = deployment();
    const app = broken.spec.template.spec.containers[0];
    assert.ok(app, 'the base Deployment has no container');
    app.lifecyle = app.lifecycle;
    app.terminationGracePeriodSeconds = 40;
    (app.readinessProbe as { httpGet: Record<string, unknown> }).httpGet.paht = '/healthz';
    assert.equal(schemaError(broken), undefined, 'kubernetes-models is expected to let unknown fields pass (check 1 alone misses them)');
    assert.deepEqual(unknownFields(broken), [
      '/spec/template/spec/containers/0/lifecyle',
      '/spec/template/spec/containers/0/readinessProbe/httpGet/paht',
      '/spec/template/spec/containers/0/terminationGracePeriodSeconds',
    ], 'the unknown-field walker did not report exactly the planted fields');
  });
});
