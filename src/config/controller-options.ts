import type { OptionSpec } from '../settings/option.ts';

const CONTROLLER = ['controller'];

/** The controller's own options; it also takes the CMDB's (cmdb/) and the record's (options.ts). Names are fixed. */
export const CONTROLLER_OPTIONS: readonly OptionSpec[] = [
  { flag: 'kubeconfig', type: 'string', commands: CONTROLLER, describe: 'kubeconfig file. Default: the pod\'s service account, else KUBECONFIG, then ~/.kube/config.' },
  { flag: 'namespace', type: 'array', commands: CONTROLLER, describe: 'Namespace whose pods are registered; repeat the flag. Default: every namespace. Env var: one per line.' },
  { flag: 'selector', type: 'string', commands: CONTROLLER, default: 'cmdb-hook.io/register=true', describe: 'Label selector of the pods registered.' },
  { flag: 'orphan-grace', type: 'string', commands: [...CONTROLLER, 'consume'], default: '60s', describe: 'How long a record\'s pod must have been gone before the record is retired (consume: missing from the inventories).' },
  { flag: 'resync', type: 'string', commands: CONTROLLER, default: '10m', describe: 'A full pass (list pods and records, compare) at this interval, besides the watch.' },
  { flag: 'max-retire', type: 'string', commands: [...CONTROLLER, 'consume'], default: '50', describe: 'At most this many records retired per pass; more than half of the cluster\'s records: none.' },
  { flag: 'policy', type: 'string', commands: CONTROLLER, default: 'sync', describe: 'sync (create, update, retire), upsert-only (never retire) or create-only.' },
  { flag: 'cmdb-rate', type: 'string', commands: CONTROLLER, default: '20', describe: 'CMDB requests per second, at most.' },
  { flag: 'cmdb-concurrency', type: 'string', commands: CONTROLLER, default: '4', describe: 'CMDB requests in flight, at most.' },
  { flag: 'leader-elect', type: 'boolean', commands: CONTROLLER, default: 'true', describe: 'Only the holder of a coordination.k8s.io Lease writes (run 2 replicas).' },
  { flag: 'leader-election-namespace', type: 'string', commands: CONTROLLER, describe: 'Namespace of the Lease. Default: the controller\'s own (POD_NAMESPACE, the service account\'s).' },
  { flag: 'leader-election-name', type: 'string', commands: CONTROLLER, default: 'cmdb-hook-controller', describe: 'Name of the Lease.' },
  { flag: 'leader-elect-lease-duration', type: 'string', commands: CONTROLLER, default: '15s', describe: 'How long a Lease holds without renewal; a new leader takes over within it (kube-controller-manager\'s flag).' },
  { flag: 'leader-elect-renew-deadline', type: 'string', commands: CONTROLLER, default: '10s', describe: 'The leader stops writing when it could not renew for this long; shorter than the lease duration.' },
  { flag: 'leader-elect-retry-period', type: 'string', commands: CONTROLLER, default: '2s', describe: 'Pause between tries to acquire or renew the Lease.' },
  { flag: 'listen', type: 'string', commands: [...CONTROLLER, 'consume', 'sidecar'], default: { controller: ':9102', consume: ':9102', sidecar: ':9901' }, describe: 'Address of GET /healthz, /readyz (controller: 200 after the first full pass; consume: while consuming; sidecar: once registered), /metrics (not sidecar) and /deregister (sidecar).' },
  { flag: 'once', type: 'boolean', commands: CONTROLLER, default: 'false', describe: 'One full pass, then exit (0 done, 5 the CMDB failed): for a CronJob.' },
  { flag: 'readiness-gate', type: 'boolean', commands: CONTROLLER, default: 'false', describe: 'Set the pod condition cmdb-hook.io/registered once its records are written.' },
  { flag: 'gate-timeout', type: 'string', commands: CONTROLLER, default: '2m', describe: 'Readiness gate: set True with reason CMDBUnavailable after this (fail open; not with --strict).' },
];
