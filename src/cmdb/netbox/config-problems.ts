import { settingName } from '../../settings/option.ts';
import { UID_FIELD } from './ip-address.ts';
import type { NetboxSettings } from './settings.ts';

/**
 * Turns NetBox's 400 field map into what to create in NetBox, so that a CMDB set up halfway reads as a config problem
 * that names the exact object, not as an opaque refusal. NetBox never creates custom fields, tags, tenants or VRFs
 * on the fly; the messages it sends are:
 * - `Custom field 'x' does not exist for this object type.` under custom_fields (netbox/extras/api/customfields.py);
 *   older releases said `Unknown field name 'x' in custom field data.` (CustomFieldsMixin.clean in
 *   netbox/netbox/models/features.py);
 * - `Related object not found using the provided attributes: {'slug': 'x'}` and `Multiple objects match the provided
 *   attributes: ...` under tenant, vrf or tags (get_related_object_by_attrs in netbox/utilities/api.py); for tags,
 *   DRF lists one entry per tag sent, so the position names the tag.
 */
export function whatToCreate(body: string, settings: NetboxSettings): string[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return [];
  }
  const { tenant, vrf, tags } = settings;
  const actions = new Set<string>();
  for (const { field, index, text } of messagesOf(parsed)) {
    const customField = (/Custom field '([^']+)' does not exist/.exec(text) ?? /Unknown field name '([^']+)' in custom field data/.exec(text))?.[1];
    if (customField) {
      actions.add(customFieldAction(customField));
    } else if (/Multiple objects match the provided attributes/.test(text) && field === 'vrf') {
      actions.add(`give VRF ${vrf} a name no other VRF has in NetBox (IPAM > VRFs), or fix ${settingName('netbox-vrf')}: several VRFs are named so`);
    } else if (!/Related object not found using the provided attributes/.test(text)) {
      continue;
    } else if (field === 'tenant') {
      actions.add(`create tenant with slug ${tenant} in NetBox (Organization > Tenants), or fix ${settingName('netbox-tenant')}`);
    } else if (field === 'vrf') {
      actions.add(`create VRF ${vrf} in NetBox (IPAM > VRFs), or fix ${settingName('netbox-vrf')}`);
    } else if (field === 'tags') {
      const slug = (index === undefined ? undefined : tags[index]) ?? /'slug': '([^']*)'/.exec(text)?.[1] ?? tags.join(', ');
      actions.add(`create tag with slug ${slug} in NetBox (Customization > Tags), or fix ${settingName('netbox-tag')}`);
    }
  }
  return [...actions];
}

/** What to do about a custom field that NetBox does not have for IP addresses. */
export function customFieldAction(name: string): string {
  return name === UID_FIELD
    ? `create custom field ${UID_FIELD} in NetBox (Customization > Custom Fields: type Text, object type IPAM > IP Address, filter logic Exact, not required, not unique)`
    : `create custom field ${name} in NetBox (Customization > Custom Fields: type Text, object type IPAM > IP Address) for ${settingName('field')} ${name}, or drop that --field`;
}

interface FieldMessage {
  /** The top-level key of the field map: custom_fields, tenant, tags, address, non_field_errors... */
  field: string;
  /** In a list of nested entries (tags), the position of the entry the message is about. */
  index: number | undefined;
  text: string;
}

function messagesOf(body: unknown): FieldMessage[] {
  const found: FieldMessage[] = [];
  const walk = (value: unknown, field: string, index: number | undefined): void => {
    if (typeof value === 'string') found.push({ field, index, text: value });
    else if (Array.isArray(value)) value.forEach((item, at) => walk(item, field, typeof item === 'object' && item !== null ? at : index));
    else if (typeof value === 'object' && value !== null) for (const [key, item] of Object.entries(value)) walk(item, field || key, index);
  };
  walk(body, '', undefined);
  return found;
}
