import type { OptionSpec } from '../settings/option.ts';

/** The exec hooks, and the sidecar, which does what both do from its own container. */
const HOOKS = ['register', 'deregister', 'sidecar'];
/** The hooks and the controller: the settings of the record and of the run that both have. */
const RECORD = [...HOOKS, 'controller'];
const REGISTERS = ['register', 'sidecar'];

/** The options of the hooks, of install and of version that are not the CMDB's (those are in cmdb/). */
export const HOOK_OPTIONS: readonly OptionSpec[] = [
  { flag: 'cluster', type: 'string', commands: [...RECORD, 'consume'], describe: 'Cluster name written in the record. Required.' },
  { flag: 'container', type: 'string', commands: HOOKS, describe: 'Name of this container (the Downward API has no field for it). Required.' },
  { flag: 'app', type: 'string', commands: HOOKS, describe: 'Application system name. Default: label app.kubernetes.io/name, then label app.' },
  { flag: 'field', type: 'array', commands: RECORD, describe: 'Extra record field key=value; repeat the flag. Env var: one key=value per line.' },
  { flag: 'timeout', type: 'string', commands: [...RECORD, 'install'], default: { register: '300s', deregister: '10s', sidecar: '300s', install: '60s', controller: '10m' }, describe: 'One deadline for the whole run (controller: for --once only; sidecar: for registering).' },
  { flag: 'strict', type: 'boolean', commands: RECORD, default: 'false', describe: 'Exit non-zero (3, 4, 5) when not ready or the CMDB fails, instead of 0 (controller: keep the readiness gate False).' },
  { flag: 'dry-run', type: 'boolean', commands: ['register', 'deregister', 'controller'], default: 'false', describe: 'Print the request that would be sent (token masked; controller: the plan); send nothing.' },
  { flag: 'log-level', type: 'string', commands: [...RECORD, 'install', 'consume'], default: 'info', describe: 'trace, debug, info, warn, error, fatal or silent.' },
  { flag: 'log-file', type: 'string', commands: [...RECORD, 'consume'], describe: 'Extra best-effort log destination, e.g. /proc/1/fd/1; never fatal.' },
  { flag: 'podinfo-dir', type: 'string', commands: HOOKS, default: '/etc/podinfo', describe: 'downwardAPI volume with the labels and annotations files.' },
  { flag: 'namespace-file', type: 'string', commands: HOOKS, default: '/var/run/secrets/kubernetes.io/serviceaccount/namespace', describe: 'Fallback for the namespace when POD_NAMESPACE is unset.' },
  { flag: 'ready-url', type: 'string', commands: REGISTERS, describe: 'Readiness URL (http or https), checked like the kubelet httpGet probe.' },
  { flag: 'ready-tcp', type: 'string', commands: REGISTERS, describe: 'Readiness TCP port or host:port (port alone: 127.0.0.1 and ::1).' },
  { flag: 'ready-interval', type: 'string', commands: REGISTERS, default: '30ms', describe: 'Pause between readiness checks (short: the CMDB should know within tens of ms).' },
  { flag: 'ready-timeout', type: 'string', commands: REGISTERS, default: '1s', describe: 'Limit of one readiness check (the kubelet default).' },
  { flag: 'background', type: 'boolean', commands: ['register'], default: 'false', describe: 'Return at once; a detached process waits and registers (NetworkPolicy clusters).' },
  { flag: 'deregister-action', type: 'string', commands: ['deregister', 'sidecar', 'controller', 'consume'], describe: 'delete, or retire (keep the record marked gone; controller: what a retirement does). Default: delete; retire with --cmdb-kind servicenow.' },
  { flag: 'drain', type: 'string', commands: ['deregister', 'sidecar'], default: '0s', describe: 'After deregistering, wait this long before returning (routers converge).' },
  { flag: 'json', type: 'boolean', commands: ['version'], default: 'false', describe: 'version: print version, runtime and build as JSON.' },
];
