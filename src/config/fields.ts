import { ConfigError } from '../errors.ts';
import { settingName } from '../settings/option.ts';

const FIELD_KEY = /^[A-Za-z_][A-Za-z0-9_.-]{0,127}$/;

/** --field key=value, repeated: the extra fields of the record. */
export function parseFields(entries: readonly string[]): Record<string, string> {
  // A Map, then Object.fromEntries: a key such as __proto__ becomes a plain field, not the object's prototype.
  const fields = new Map<string, string>();
  for (const entry of entries) {
    const at = entry.indexOf('=');
    const key = at < 0 ? '' : entry.slice(0, at).trim();
    if (at < 0 || !FIELD_KEY.test(key)) {
      throw new ConfigError(`${settingName('field')} ${JSON.stringify(entry)} is not key=value with a key of letters, digits, '_', '.' or '-'`);
    }
    if (fields.has(key)) throw new ConfigError(`${settingName('field')} gives ${JSON.stringify(key)} twice; keep one`);
    fields.set(key, entry.slice(at + 1));
  }
  return Object.fromEntries(fields);
}
