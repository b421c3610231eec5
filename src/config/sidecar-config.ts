import { ConfigError } from '../errors.ts';
import { addressInBlock, parseCidr, type Cidr } from '../settings/cidr.ts';
import { parseListenAddress, type ListenAddress } from '../settings/listen-address.ts';
import { settingName } from '../settings/option.ts';
import type { SettingReader } from '../settings/read-settings.ts';
import type { HookConfig } from './hook-config.ts';
import type { RunSettings } from './run-settings.ts';

/**
 * What an in-pod process uses when it dials localhost: exactly these two, not all of 127.0.0.0/8, so that nothing
 * else that reaches the pod through a loopback-looking address is taken for the pod itself.
 */
export const LOOPBACK: readonly Cidr[] = [
  { address: '127.0.0.1', prefix: 32, family: 'ipv4' },
  { address: '::1', prefix: 128, family: 'ipv6' },
];

// Below this a heartbeat is a load on the CMDB rather than a repair of a removed record.
const MIN_HEARTBEAT_MS = 1_000;

/** The sidecar's config: the hook's (register and deregister in one), and what the long-running part adds. */
export interface SidecarConfig extends RunSettings {
  readonly hook: HookConfig;
  readonly listen: ListenAddress;
  /** Who may call GET /deregister: --trusted-source (else HOST_IP), and the pod's own loopback. */
  readonly trusted: readonly Cidr[];
  /** Where `trusted` came from, for the start-up log line. */
  readonly trustedFrom: 'trusted-source' | 'HOST_IP' | 'loopback only';
  /** 0: no heartbeat. */
  readonly heartbeatMs: number;
  readonly deregisterTimeoutMs: number;
}

/**
 * Builds and checks the sidecar's config, once; frozen. `timeoutMs` is Infinity for src/cli/run.ts: the process runs
 * until SIGTERM; the register's deadline is the hook's --timeout.
 */
export function buildSidecarConfig(hook: HookConfig, read: SettingReader, env: NodeJS.ProcessEnv): SidecarConfig {
  const heartbeatMs = read.duration('heartbeat', { zero: true });
  if (heartbeatMs > 0 && heartbeatMs < MIN_HEARTBEAT_MS) {
    throw new ConfigError(`${settingName('heartbeat')} ${JSON.stringify(read.text('heartbeat'))} is shorter than 1s; give 0s (off) or an interval like 5m`);
  }
  const given = read.list('trusted-source').map((value) => trustedSource(value, env));
  const hostIp = env.HOST_IP?.trim();
  // HOST_IP comes from the Downward API (status.hostIP): a value that is no address is a mistake in the manifest.
  const host = given.length === 0 && hostIp ? [parseCidr('HOST_IP (fieldRef status.hostIP)', hostIp)] : [];
  return Object.freeze({
    hook,
    timeoutMs: Number.POSITIVE_INFINITY,
    strict: hook.strict,
    logLevel: hook.logLevel,
    logFile: hook.logFile,
    listen: parseListenAddress('listen', read.text('listen') ?? ''),
    trusted: [...(given.length > 0 ? given : host), ...LOOPBACK],
    trustedFrom: given.length > 0 ? 'trusted-source' : host.length > 0 ? 'HOST_IP' : 'loopback only',
    heartbeatMs,
    deregisterTimeoutMs: read.duration('deregister-timeout'),
  });
}

// `pod-subnet/24+1`: the address 1 into the /24 that holds POD_IP. The same manifest then names each node's own
// gateway, which no Downward API field gives (Flannel's cni0, Antrea's antrea-gw0: .1; OVN-Kubernetes: .2).
const POD_SUBNET = /^pod-subnet\/(\d{1,3})\+(\d{1,9})$/;

function trustedSource(value: string, env: NodeJS.ProcessEnv): Cidr {
  const name = settingName('trusted-source');
  const relative = POD_SUBNET.exec(value);
  if (!relative) return parseCidr(name, value);
  const podIp = env.POD_IP?.trim() ?? '';
  const pod = podIp ? parseCidr('POD_IP (fieldRef status.podIP)', podIp) : undefined;
  if (!pod) throw new ConfigError(`${name} ${JSON.stringify(value)} needs POD_IP: add env POD_IP with fieldRef status.podIP`);
  const address = addressInBlock(pod.address, Number(relative[1]), Number(relative[2]));
  if (address === undefined) throw new ConfigError(`${name} ${JSON.stringify(value)} does not fit POD_IP ${pod.address}: the offset must lie inside the block`);
  return parseCidr(name, address);
}
