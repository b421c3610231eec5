import type { OptionSpec } from '../settings/option.ts';

const SIDECAR = ['sidecar'];

/**
 * The sidecar's own options; it also takes the CMDB's (cmdb/), the hooks' (options.ts: register's and deregister's
 * both) and --listen (controller-options.ts, with the sidecar's own default). Names are fixed.
 */
export const SIDECAR_OPTIONS: readonly OptionSpec[] = [
  { flag: 'trusted-source', type: 'array', commands: SIDECAR, describe: 'Address or CIDR allowed to call GET /deregister; repeat the flag. Default: HOST_IP. Loopback is always allowed.' },
  { flag: 'heartbeat', type: 'string', commands: SIDECAR, default: '0s', describe: 'Re-assert the record at this interval, jittered by up to 10% either way (0s: off).' },
  { flag: 'deregister-timeout', type: 'string', commands: SIDECAR, default: '10s', describe: 'One deadline for each deregister (GET /deregister or SIGTERM), drain included.' },
];
