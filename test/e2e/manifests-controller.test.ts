// What this proves about manifests/controller/ (`cmdb-hook controller`): each directory renders with the real
// `kubectl kustomize`, every object passes its Kubernetes schema and has no unknown field, and
//   - the ServiceAccount may do exactly what the controller needs, no more: pods get/list/watch, pods/status patch,
//     events create (cluster-wide, or a Role in the namespaced variant), and the Lease only where there is
//     leader election (not in the CronJob);
//   - the command is the image's entrypoint with `controller`, every flag is one the controller has, the probes and
//     the Service reach the port of --listen, the CronJob runs --once (and the dry-run variant --dry-run too);
//   - the CMDB settings are the hooks' own ConfigMap and token Secret; the pod runs non-root, read-only, without
//     privilege escalation or capabilities, with seccomp RuntimeDefault; two replicas spread over nodes, with a PDB.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { posix } from 'node:path';
import { describe, test } from 'node:test';
import type { IContainer, IPodSpec } from 'kubernetes-models/v1';
import { parseDuration } from '../../src/settings/duration.ts';
import { parseListenAddress } from '../../src/settings/listen-address.ts';
import * as manifest from '../support/kubelet/controller-manifest.ts';
import { label, render, type KubeObject } from '../support/kubelet/render.ts';
import { schemaError, unknownFields } from '../support/kubelet/schema.ts';

const NAME = 'cmdb-hook-controller';
const POD_RULES = ['core/events create', 'core/pods get', 'core/pods list', 'core/pods watch', 'core/pods/status patch'];
const leaseRules = (lease: string) => [`coordination.k8s.io/leases create`, `coordination.k8s.io/leases get ${lease}`, `coordination.k8s.io/leases update ${lease}`];
const CONFIG = ['ConfigMap/cmdb-hook', 'Secret/cmdb-hook-token'];
const DEPLOYED = [...CONFIG, `Deployment/${NAME}`, `PodDisruptionBudget/${NAME}`, `Service/${NAME}`, `ServiceAccount/${NAME}`, `Role/${NAME}-leases`, `RoleBinding/${NAME}-leases`];
const SCHEDULED = [...CONFIG, `CronJob/${NAME}`, `ServiceAccount/${NAME}`, `ClusterRole/${NAME}`, `ClusterRoleBinding/${NAME}`];

/** Each directory: what it renders, its namespace (undefined: chosen when applying), where the pod rules apply. */
const DIRECTORIES = [
  { dir: 'controller', objects: [...DEPLOYED, `ClusterRole/${NAME}`, `ClusterRoleBinding/${NAME}`], namespace: 'cmdb-hook', podRules: 'cluster', dryRun: false },
  { dir: 'controller/namespaced', objects: [...DEPLOYED, `Role/${NAME}`, `RoleBinding/${NAME}`], namespace: undefined, podRules: 'namespace', dryRun: false },
  { dir: 'controller/cronjob', objects: SCHEDULED, namespace: 'cmdb-hook', podRules: 'cluster', dryRun: false },
  { dir: 'controller/cronjob-dry-run', objects: SCHEDULED, namespace: 'cmdb-hook', podRules: 'cluster', dryRun: true },
] as const;

/** The image's entrypoint (the Dockerfile's ENTRYPOINT) and the image the hook manifests install from. */
const ENTRYPOINT = (JSON.parse(/^ENTRYPOINT (\[.*\])$/m.exec(readFileSync(new URL('../../Dockerfile', import.meta.url), 'utf8'))?.[1] ?? '[]') as string[])[0];
const IMAGE = (render('variants/inject').find((object) => object.kind === 'Deployment')?.spec as { template: { spec: IPodSpec } }).template.spec.initContainers?.[0]?.image;

function only(objects: KubeObject[], kind: string): KubeObject {
  const found = objects.filter((object) => object.kind === kind);
  assert.equal(found.length, 1, `expected one ${kind}, rendered ${found.map(label).join(', ') || 'none'}`);
  return found[0] as KubeObject;
}

function env(container: IContainer, name: string) {
  return container.env?.find((variable) => variable.name === name);
}

for (const { dir, objects: expected, namespace, podRules, dryRun } of DIRECTORIES) {
  describe(`manifests/${dir}`, () => {
    const objects = render(dir);
    const workload = objects.find((object) => object.kind === 'Deployment' || object.kind === 'CronJob') as KubeObject;
    const owner = label(workload);
    const template = manifest.podTemplateOf(workload);
    const pod = template.spec as IPodSpec;
    const container = manifest.controllerContainer(owner, pod);
    const command = manifest.parseCommand(container.command ?? []);

    test('renders the expected objects, each in the expected namespace', () => {
      assert.deepEqual(objects.map(label).sort(), [...expected].sort());
      for (const object of objects) {
        const clusterScoped = object.kind.startsWith('Cluster');
        assert.equal(object.metadata.namespace, clusterScoped ? undefined : namespace, `${label(object)} is in the wrong namespace`);
      }
    });

    test('every object passes its Kubernetes schema and has no unknown field', () => {
      for (const object of objects) {
        const error = schemaError(object);
        assert.equal(error, undefined, `${label(object)} fails its Kubernetes schema: ${error}`);
        assert.deepEqual(unknownFields(object), [], `${label(object)} has fields the API server would refuse as unknown`);
      }
    });

    test('the ServiceAccount may do exactly what the controller needs', () => {
      const account = only(objects, 'ServiceAccount');
      assert.equal(pod.serviceAccountName, account.metadata.name, `${owner} does not run as ${label(account)}`);
      assert.notEqual(pod.automountServiceAccountToken, false, `${owner} needs its service account token to reach the API`);
      const lease = command.flags.get('leader-election-name')?.[0] ?? NAME;
      const wanted = [...POD_RULES.map((rule) => `${podRules} ${rule}`), ...(workload.kind === 'Deployment' ? leaseRules(lease).map((rule) => `namespace ${rule}`) : [])];
      assert.deepEqual(manifest.permissions(objects, account), wanted.sort());
      for (const binding of objects.filter((object) => object.kind === 'ClusterRoleBinding')) {
        const subjects = (binding as unknown as { subjects: { namespace?: string }[] }).subjects;
        assert.deepEqual(subjects.map((subject) => subject.namespace), [account.metadata.namespace], `${label(binding)} must name its ServiceAccount's namespace`);
      }
      if (podRules === 'namespace') assert.ok(!objects.some((object) => object.kind.startsWith('Cluster')), `manifests/${dir} renders cluster-wide RBAC`);
    });

    test('runs the image\'s cmdb-hook controller with flags the controller has', () => {
      assert.equal(container.image, IMAGE, `${owner} runs ${container.image}, not the image the hook manifests use`);
      assert.equal(command.program, ENTRYPOINT, `${owner} does not run the image's entrypoint ${ENTRYPOINT}`);
      assert.equal(command.subcommand, 'controller');
      assert.equal(command.nodeOptions, '--lite-mode', `${owner}: the long-running controller runs with V8's lite mode (memory over speed)`);
      assert.deepEqual(command.unknown, [], `${owner} passes arguments that are not controller flags`);
      for (const variable of container.env ?? []) {
        if (variable.name.startsWith('CMDB_HOOK_')) assert.ok(manifest.CONTROLLER_FLAGS.has(manifest.flagOfEnvVar(variable.name)), `${owner}: ${variable.name} is no controller setting`);
      }
      if (workload.kind === 'CronJob') {
        assert.deepEqual(command.flags.get('once'), ['true'], `${owner} must run --once`);
        assert.equal(command.flags.has('dry-run'), dryRun, `${owner}: --dry-run should be ${dryRun ? 'on' : 'off'}`);
        assert.equal((workload.spec as { concurrencyPolicy?: string }).concurrencyPolicy, 'Forbid', `${owner}: two passes at once would race`);
        const timeout = parseDuration(command.flags.get('timeout')?.[0] ?? '10m');
        const jobDeadline = (workload.spec as { jobTemplate: { spec: { activeDeadlineSeconds?: number } } }).jobTemplate.spec.activeDeadlineSeconds;
        assert.ok(timeout.ok && jobDeadline !== undefined && timeout.ms < jobDeadline * 1000, `${owner}: --timeout must end a pass (exit 5, with its summary) before the Job's activeDeadlineSeconds kills it`);
      } else {
        assert.ok(!command.flags.has('once') && !command.flags.has('dry-run'), `${owner}: the Deployment runs for good and writes`);
        const namespaces = command.flags.get('namespace');
        assert.deepEqual(namespaces, podRules === 'namespace' ? ['$(POD_NAMESPACE)'] : undefined, `${owner}: --namespace must match where its pod rules apply`);
      }
    });

    test('identity from the Downward API; the hooks\' CMDB settings and token file', () => {
      assert.equal(env(container, 'POD_NAME')?.valueFrom?.fieldRef?.fieldPath, 'metadata.name', `${owner}: POD_NAME is the leader identity`);
      assert.equal(env(container, 'POD_NAMESPACE')?.valueFrom?.fieldRef?.fieldPath, 'metadata.namespace');
      const configMap = objects.find((object) => object.kind === 'ConfigMap' && object.metadata.name === container.envFrom?.[0]?.configMapRef?.name);
      const settings = (configMap as { data?: Record<string, string> } | undefined)?.data ?? {};
      for (const required of ['CMDB_HOOK_CMDB_URL', 'CMDB_HOOK_CLUSTER']) assert.ok(settings[required], `${owner}: its ConfigMap sets no ${required}`);
      if (settings.CMDB_HOOK_LOG_FILE?.startsWith('/proc/1/')) {
        assert.equal(env(container, 'CMDB_HOOK_LOG_FILE')?.value, '', `${owner} is PID 1: a log file at /proc/1/fd/* would print each line twice`);
      }
      const tokenFile = settings.CMDB_HOOK_CMDB_TOKEN_FILE ?? '';
      const mount = container.volumeMounts?.find((candidate) => candidate.mountPath === posix.dirname(tokenFile));
      const secret = pod.volumes?.find((volume) => volume.name === mount?.name)?.secret?.secretName;
      assert.ok(secret && objects.some((object) => label(object) === `Secret/${secret}`), `${owner}: ${tokenFile} is not a file of the token Secret`);
      assert.ok(!container.env?.some((variable) => variable.valueFrom?.secretKeyRef) && !container.envFrom?.some((source) => source.secretRef), `${owner}: the token must stay a file`);
    });

    test('non-root, read-only, no privilege escalation, no capabilities, seccomp RuntimeDefault; sized resources', () => {
      const security = container.securityContext ?? {};
      assert.equal(pod.securityContext?.runAsNonRoot, true, `${owner}: runAsNonRoot`);
      assert.notEqual(pod.securityContext?.runAsUser ?? security.runAsUser, 0, `${owner} runs as root`);
      assert.equal(security.seccompProfile?.type ?? pod.securityContext?.seccompProfile?.type, 'RuntimeDefault', `${owner}: seccomp`);
      assert.equal(security.allowPrivilegeEscalation, false, `${owner}: allowPrivilegeEscalation`);
      assert.equal(security.readOnlyRootFilesystem, true, `${owner}: readOnlyRootFilesystem`);
      assert.notEqual(security.privileged, true, `${owner} is privileged`);
      assert.deepEqual([security.capabilities?.drop, security.capabilities?.add], [['ALL'], undefined], `${owner}: drop ALL capabilities, add none`);
      const { requests = {}, limits = {} } = container.resources ?? {};
      assert.ok(requests.cpu && requests.memory, `${owner}: requests cpu and memory`);
      // Peak RSS budget with 10,000 pods in the cache (issue 12): 150 MiB; the limit must leave room above it.
      assert.ok(manifest.mebibytes(limits.memory) > 150, `${owner}: memory limit ${String(limits.memory)} is not above the 150Mi budget`);
      assert.ok(manifest.mebibytes(requests.memory) <= manifest.mebibytes(limits.memory), `${owner}: memory request above the limit`);
    });

    if (workload.kind === 'Deployment') {
      test('two replicas on different nodes, probes and Service on --listen, a PodDisruptionBudget', () => {
        const labels = template.metadata?.labels;
        assert.equal((workload.spec as { replicas?: number }).replicas, 2);
        const spread = pod.topologySpreadConstraints?.find((constraint) => constraint.topologyKey === 'kubernetes.io/hostname');
        assert.ok(spread?.whenUnsatisfiable === 'DoNotSchedule' && spread.maxSkew === 1 && manifest.selects(spread.labelSelector, labels), `${owner}: replicas are not kept on different nodes`);
        // Taints ignored (the default), a lost node counts as an empty domain and the lost replica cannot be replaced.
        assert.equal(spread.nodeTaintsPolicy, 'Honor', `${owner}: a lost node would keep the replacement Pending`);

        const listen = parseListenAddress('listen', command.flags.get('listen')?.[0] ?? ':9102');
        const probes = { livenessProbe: '/healthz', readinessProbe: '/readyz' } as const;
        for (const [probe, path] of Object.entries(probes) as [keyof typeof probes, string][]) {
          const httpGet = container[probe]?.httpGet;
          assert.equal(httpGet?.path, path, `${owner}: ${probe} must GET ${path}`);
          assert.equal(manifest.resolvePort(owner, container, httpGet?.port), listen.port, `${owner}: ${probe} misses --listen's port ${listen.port}`);
        }
        const service = only(objects, 'Service').spec as { selector?: Record<string, string>; ports: { targetPort?: number | string }[] };
        assert.ok(manifest.selects({ matchLabels: service.selector ?? {} }, labels), 'the Service does not select the controller');
        assert.equal(manifest.resolvePort(owner, container, service.ports[0]?.targetPort), listen.port, 'the Service misses --listen\'s port');

        const budget = only(objects, 'PodDisruptionBudget').spec as { selector?: { matchLabels?: Record<string, string> }; maxUnavailable?: number; minAvailable?: number };
        assert.ok(manifest.selects(budget.selector, labels), 'the PodDisruptionBudget does not select the controller');
        assert.ok(budget.maxUnavailable === 1 || budget.minAvailable === 1, 'the PodDisruptionBudget must let one replica go and keep one');
      });
    } else {
      test('a Job pod: no probes, never restarted in place', () => {
        assert.deepEqual([container.livenessProbe, container.readinessProbe, container.startupProbe], [undefined, undefined, undefined], `${owner}: --once serves no probes`);
        assert.equal(pod.restartPolicy, 'Never');
      });
    }
  });
}

test('the flag check reports a flag the controller does not have, and reads values and booleans', () => {
  const parsed = manifest.parseCommand(['/opt/cmdb-hook/cmdb-hook', 'controller', '--orphan-grac', '60s', '--once', '--namespace=a', '--namespace', 'b']);
  assert.deepEqual(parsed.unknown, ['--orphan-grac', '60s']);
  assert.deepEqual([...parsed.flags], [['once', ['true']], ['namespace', ['a', 'b']]]);
});
