// What this proves about manifests/: every kustomize directory renders with the real `kubectl kustomize`, and the
// objects it renders
//   1. pass Kubernetes' own schema (kubernetes-models' validators; negative case: a wrong type is refused);
//   2. carry no unknown field (the API server's strict field validation would refuse a typo such as `lifecyle`,
//      which kubernetes-models' validation lets through; negative case: typos planted in a copy are reported);
//   3. keep the hook invariants: both hook commands present, comma- and JSON-free, calling the binary with
//      register / deregister; the 7 Downward API env vars; the podinfo volume; the token as a mounted file only;
//      a grace period longer than the preStop --timeout. In variants/sidecar the app container has no exec hook: the
//      identity, podinfo and token sit in the sidecar, which keeps the app container's record, and the grace period
//      outlasts its --deregister-timeout. The variants' own checks are manifests-variants.test.ts.
// Checks 1 and 2 are test/support/kubelet/schema.ts; manifests-controller.test.ts covers manifests/controller.
import assert from 'node:assert/strict';
import { posix } from 'node:path';
import { describe, test } from 'node:test';
import type { IConfigMap, ISecret } from 'kubernetes-models/v1';
import { label, render, type KubeObject } from '../support/kubelet/render.ts';
import { schemaError, unknownFields } from '../support/kubelet/schema.ts';
import { appContainer, find, flagValue, hookCommand, podTemplates, seconds, sidecarContainer, volumeMountedAt } from '../support/kubelet/template-queries.ts';

/** Each directory, the objects it must render (kind/name), and how it runs the agent: exec hooks calling `binary`, or the sidecar. */
const DIRECTORIES: { dir: string; objects: string[]; binary?: string }[] = [
  { dir: '.', objects: ['ConfigMap/cmdb-hook', 'Secret/cmdb-hook-token', 'Deployment/shop-web'], binary: '/opt/cmdb-hook/cmdb-hook' },
  { dir: 'base', objects: ['ConfigMap/cmdb-hook', 'Secret/cmdb-hook-token', 'Deployment/shop-web'], binary: '/opt/cmdb-hook/cmdb-hook' },
  {
    dir: 'variants/statefulset',
    objects: ['ConfigMap/cmdb-hook', 'Secret/cmdb-hook-token', 'Service/web', 'StatefulSet/web'],
    binary: '/opt/cmdb-hook/cmdb-hook',
  },
  { dir: 'variants/inject', objects: ['ConfigMap/cmdb-hook', 'Secret/cmdb-hook-token', 'Deployment/shop-web'], binary: '/opt/cmdb-hook/cmdb-hook' },
  { dir: 'variants/image-volume', objects: ['ConfigMap/cmdb-hook', 'Secret/cmdb-hook-token', 'Deployment/shop-web'], binary: '/opt/cmdb-hook/cmdb-hook' },
  { dir: 'variants/sidecar', objects: ['ConfigMap/cmdb-hook', 'Secret/cmdb-hook-token', 'Deployment/shop-web'] },
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
        // Who runs the agent: the app container's exec hooks, or the sidecar (which writes the app container's record).
        const agent = binary === undefined ? sidecarContainer(owner, template) : app;

        // Hook commands: the binary, the subcommand, nothing a platform could split or a reader mistake for JSON.
        for (const [hook, subcommand] of binary === undefined ? [] : ([['postStart', 'register'], ['preStop', 'deregister']] as const)) {
          const command = hookCommand(owner, app, hook);
          assert.equal(command[0], binary, `${owner}: the ${hook} command does not start with ${binary}`);
          assert.equal(command[1], subcommand, `${owner}: the ${hook} command runs ${command[1]}, not ${subcommand}`);
          for (const argument of command) {
            assert.ok(!argument.includes(',') && !argument.includes('{'), `${owner}: the ${hook} argument ${JSON.stringify(argument)} holds a comma or a {`);
          }
        }
        const container = agent.env?.find((variable) => variable.name === 'CMDB_HOOK_CONTAINER');
        assert.equal(container?.value, app.name, `${owner}: CMDB_HOOK_CONTAINER in ${agent.name} must name the container (${app.name})`);

        // Pod identity from the Downward API.
        for (const [name, fieldPath] of Object.entries(DOWNWARD_API_ENV)) {
          const variable = agent.env?.find((candidate) => candidate.name === name);
          assert.ok(variable, `${owner}: env var ${name} is missing`);
          assert.equal(variable.valueFrom?.fieldRef?.fieldPath, fieldPath, `${owner}: env var ${name} must come from fieldRef ${fieldPath}`);
        }

        // All labels and annotations, through the podinfo downwardAPI volume.
        const podinfo = volumeMountedAt(owner, template, agent, '/etc/podinfo');
        const items = podinfo.downwardAPI?.items?.map((item) => `${item.path}=${item.fieldRef?.fieldPath}`) ?? [];
        for (const wanted of ['labels=metadata.labels', 'annotations=metadata.annotations']) {
          assert.ok(items.includes(wanted), `${owner}: the downwardAPI volume at /etc/podinfo lacks the item ${wanted} (has ${items.join(', ')})`);
        }

        // The token: a file from the Secret, at the path the ConfigMap names; never an env var.
        const configMapName = agent.envFrom?.find((source) => source.configMapRef)?.configMapRef?.name;
        assert.ok(configMapName, `${owner}: container ${agent.name} takes no envFrom configMapRef`);
        const tokenFile = find<IConfigMap>(objects, 'ConfigMap', configMapName).data?.CMDB_HOOK_CMDB_TOKEN_FILE;
        assert.ok(tokenFile, `${owner}: ConfigMap ${configMapName} sets no CMDB_HOOK_CMDB_TOKEN_FILE`);
        const tokenVolume = volumeMountedAt(owner, template, agent, posix.dirname(tokenFile));
        const secretName = tokenVolume.secret?.secretName;
        assert.ok(secretName, `${owner}: the volume at ${posix.dirname(tokenFile)} is not a Secret volume`);
        const secret = find<ISecret>(objects, 'Secret', secretName);
        const fileName = posix.basename(tokenFile);
        const keys = tokenVolume.secret?.items?.filter((item) => item.path === fileName).map((item) => item.key) ?? [fileName];
        assert.equal(keys.length, 1, `${owner}: the Secret volume does not project exactly one key to ${fileName}`);
        const key = keys[0] ?? '';
        const token = secret.stringData?.[key] ?? secret.data?.[key];
        assert.ok(token, `${owner}: Secret ${secretName} has no key ${key} for ${tokenFile}`);
        assert.ok(!agent.env?.some((variable) => variable.valueFrom?.secretKeyRef), `${owner}: an env var reads a Secret; the token must stay a file`);
        assert.ok(!agent.envFrom?.some((source) => source.secretRef), `${owner}: envFrom reads a Secret; the token must stay a file`);
        assert.ok(!agent.env?.some((variable) => variable.value === token), `${owner}: an env var holds the token's value`);

        // The grace period starts before preStop, so it must outlast deregister's whole deadline.
        const command = binary === undefined ? (agent.args ?? []) : hookCommand(owner, app, 'preStop');
        const timeout = flagValue(command, binary === undefined ? '--deregister-timeout' : '--timeout');
        const preStopSeconds = timeout === undefined ? DEREGISTER_DEFAULT_TIMEOUT_S : seconds(timeout);
        const grace = template.spec?.terminationGracePeriodSeconds ?? DEFAULT_GRACE_PERIOD_S;
        assert.ok(grace > preStopSeconds, `${owner}: terminationGracePeriodSeconds ${grace} is not larger than the deregister timeout ${preStopSeconds}s`);
      }
    });
  });
}

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
