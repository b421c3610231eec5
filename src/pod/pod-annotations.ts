/**
 * The annotations a pod carries for cmdb-hook: which containers get records, the application system, extra record
 * fields. The hooks read them from the Downward API's annotations file, the controller from the API object, and the
 * record builder (record.ts) applies them the same way for both, so hook and controller write the same record.
 */
export const ANNOTATIONS = {
  containers: 'cmdb-hook.io/containers',
  app: 'cmdb-hook.io/app',
  fieldPrefix: 'cmdb-hook.io/field.',
} as const;

/** `cmdb-hook.io/app` and each `cmdb-hook.io/field.<key>`: they win over the flags (--app, --field). */
export function annotatedSettings(annotations: Readonly<Record<string, string>>): { app: string | undefined; fields: Record<string, string> } {
  // A Map, then Object.fromEntries: a key such as __proto__ becomes a plain field, not the object's prototype.
  const fields = new Map<string, string>();
  for (const [key, value] of Object.entries(annotations)) {
    if (key.startsWith(ANNOTATIONS.fieldPrefix) && key.length > ANNOTATIONS.fieldPrefix.length) fields.set(key.slice(ANNOTATIONS.fieldPrefix.length), value);
  }
  return { app: annotations[ANNOTATIONS.app]?.trim() || undefined, fields: Object.fromEntries(fields) };
}
