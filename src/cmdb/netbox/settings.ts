import type { OptionSpec } from '../../settings/option.ts';
import type { SettingReader } from '../../settings/read-settings.ts';

// The hooks and the controller write the same records through the same backends.
const HOOKS = ['register', 'deregister', 'sidecar', 'controller', 'consume'];

export const NETBOX_OPTIONS: readonly OptionSpec[] = [
  { flag: 'netbox-tenant', type: 'string', commands: HOOKS, describe: 'netbox: slug of the tenant the IP addresses belong to.' },
  { flag: 'netbox-tag', type: 'array', commands: HOOKS, describe: 'netbox: slug of a tag to put on the IP addresses; repeat the flag. Env var: one per line.' },
  { flag: 'netbox-vrf', type: 'string', commands: HOOKS, describe: 'netbox: name of the VRF of the pod IPs (default: the global table).' },
];

/** Where the pod IPs go in NetBox: tenant slug, tag slugs, VRF name. */
export interface NetboxSettings {
  tenant: string | undefined;
  tags: string[];
  vrf: string | undefined;
}

export function readNetboxSettings(read: SettingReader): NetboxSettings {
  return { tenant: read.text('netbox-tenant')?.trim() || undefined, tags: read.list('netbox-tag'), vrf: read.text('netbox-vrf')?.trim() || undefined };
}
