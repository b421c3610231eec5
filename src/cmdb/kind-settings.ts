import { ConfigError } from '../errors.ts';
import { settingName } from '../options.ts';

/** Which settings belong to which --cmdb-kind: a setting of another kind is a mistake worth saying out loud. */
const KIND_SETTINGS: Readonly<Record<string, readonly string[]>> = {
  template: ['template-file'],
  netbox: ['netbox-tenant', 'netbox-tag', 'netbox-vrf'],
  servicenow: ['servicenow-data-source', 'cmdb-user', 'cmdb-password-file'],
};

/** Refuses a setting of another kind, and a kind without what it requires; both name the flag. */
export function checkKindSettings(kind: string, text: (flag: string) => string | undefined, settings: Map<string, unknown>): void {
  for (const [owner, flags] of Object.entries(KIND_SETTINGS)) {
    if (owner === kind) continue;
    const given = flags.find((flag) => settings.has(flag));
    if (given) throw new ConfigError(`${settingName(given)} is only used with --cmdb-kind ${owner}, and --cmdb-kind is ${kind}; remove it or change the kind`);
  }
  if (kind === 'template' && !text('template-file')) {
    throw new ConfigError(`${settingName('template-file')} is required with --cmdb-kind template: point it at the request template (a mounted ConfigMap key)`);
  }
  if (kind === 'servicenow') {
    if (!text('servicenow-data-source')?.trim()) {
      throw new ConfigError(`${settingName('servicenow-data-source')} is required with --cmdb-kind servicenow: the discovery source name registered for Identification and Reconciliation`);
    }
    if (Boolean(text('cmdb-user')) !== Boolean(text('cmdb-password-file'))) {
      throw new ConfigError(`${settingName('cmdb-user')} and ${settingName('cmdb-password-file')} go together for basic auth; set both, or use --cmdb-token-file`);
    }
    if (text('cmdb-user') && text('cmdb-token-file')) {
      throw new ConfigError(`${settingName('cmdb-user')} and ${settingName('cmdb-token-file')} exclude each other; use basic auth or a bearer token, not both`);
    }
  }
}
