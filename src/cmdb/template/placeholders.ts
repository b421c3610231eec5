import type { CmdbRecord } from '../../pod/record.ts';
import { AGENT_NAME, VERSION } from '../../version.ts';

/**
 * `${name}` placeholders of a request template. They are substituted inside strings of the parsed template, never
 * into its text, so a value cannot break out of the string it lands in; a substituted value is never scanned again,
 * so a label holding `${token}` stays those eight characters.
 */

/**
 * What a run knows when it builds a request: the record, the token, and the id a look-up found; for the `list` step,
 * no record but the page asked for (cluster, the id to start after, the page size).
 */
export interface Scope {
  record?: CmdbRecord;
  token?: string | undefined;
  found?: string | number | Pending | undefined;
  page?: ListScope;
}

interface ListScope {
  cluster: string;
  /** The id to start after; empty for the first page. */
  after: string;
  limit: number;
}

/** A value only known at run time (the id a look-up finds), shown as is by --dry-run: `<found.id>`. */
export class Pending {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

const FIXED: Readonly<Record<string, (record: CmdbRecord) => unknown>> = {
  'pod.uid': (record) => record.pod.uid,
  'pod.name': (record) => record.pod.name,
  'pod.ip': (record) => record.pod.ip,
  'pod.ips': (record) => record.pod.ips,
  namespace: (record) => record.namespace,
  cluster: (record) => record.cluster,
  container: (record) => record.container,
  'node.name': (record) => record.node.name,
  'node.ip': (record) => record.node.ip,
  app: (record) => record.app,
  id: (record) => record.id,
  state: (record) => record.state,
  observedAt: (record) => record.observedAt,
  'agent.name': (record) => record.agent.name,
  'agent.version': (record) => record.agent.version,
  labels: (record) => record.labels,
  annotations: (record) => record.annotations,
  fields: (record) => record.fields,
};

/** Maps of the record whose single entries are `${<map>.<key>}`; everything after the first dot is the key. */
const MAPS = ['labels', 'annotations', 'fields'] as const;
const SPECIAL = ['found.id', 'token', 'after', 'limit'] as const;

/** What the `list` step may use: it lists a cluster, so nothing of one record is known. */
export const LIST_PLACEHOLDERS: readonly string[] = ['cluster', 'after', 'limit', 'token', 'agent.name', 'agent.version'];

/** For messages: every name a template may use. */
export const KNOWN_PLACEHOLDERS: readonly string[] = [...Object.keys(FIXED), ...MAPS.map((map) => `${map}.<key>`), ...SPECIAL];

const PLACEHOLDER = /\$\{([^}]*)\}/g;

/** The names of the placeholders in a string; throws with a reason when one is unknown or `${` is not closed. */
export function placeholdersIn(text: string): string[] {
  const names = [...text.matchAll(PLACEHOLDER)].map((match) => match[1] ?? '');
  if (text.replace(PLACEHOLDER, '').includes('${')) throw new Error('"${" without its closing "}"');
  for (const name of names) {
    if (!isKnown(name)) throw new Error(`unknown placeholder \${${name}}; known: ${KNOWN_PLACEHOLDERS.join(', ')}`);
  }
  return names;
}

function isKnown(name: string): boolean {
  if (Object.hasOwn(FIXED, name) || (SPECIAL as readonly string[]).includes(name)) return true;
  // Label and annotation keys hold letters, digits, '-', '_', '.' and one '/'; fields keys even fewer.
  return MAPS.some((map) => name.startsWith(`${map}.`) && /^[^\s${}]+$/.test(name.slice(map.length + 1)));
}

/** The value of one placeholder: a string, number, null, array or object. An absent label (or field) is null. */
export function lookUp(name: string, scope: Scope): unknown {
  if (name === 'token') {
    if (scope.token === undefined) throw new Error('${token} used without a token: the backend should have refused the template');
    return scope.token;
  }
  if (name === 'found.id') {
    if (scope.found === undefined) throw new Error('${found.id} used before a look-up: the loader should have refused the template');
    return scope.found;
  }
  if (scope.page) {
    const page: Readonly<Record<string, unknown>> = { ...scope.page, 'agent.name': AGENT_NAME, 'agent.version': VERSION };
    if (Object.hasOwn(page, name)) return page[name];
    throw new Error(`\${${name}} used in the list step: the loader should have refused the template`);
  }
  const record = scope.record;
  if (!record) throw new Error(`\${${name}} used without a record: the loader should have refused the template`);
  if (Object.hasOwn(FIXED, name)) return FIXED[name]?.(record);
  const at = name.indexOf('.');
  const map = record[name.slice(0, at) as (typeof MAPS)[number]];
  const key = name.slice(at + 1);
  return Object.hasOwn(map, key) ? map[key] : null;
}

/**
 * Resolves a string of the template. A string that is one placeholder and nothing else takes the value's own type
 * (`"${labels}"` becomes an object, `"${pod.ips}"` an array, an absent label null); in a longer string each value is
 * written as text (see asText).
 */
export function resolveValue(text: string, scope: Scope): unknown {
  const whole = /^\$\{([^}]*)\}$/.exec(text);
  if (whole) {
    const value = lookUp(whole[1] ?? '', scope);
    return value instanceof Pending ? value.text : value;
  }
  return text.replace(PLACEHOLDER, (_, name: string) => asText(lookUp(name, scope)));
}

/** Resolves a string as text, whatever it holds: for headers, and for the form fields of a look-alike. */
export function resolveText(text: string, scope: Scope): string {
  return asText(resolveValue(text, scope));
}

/**
 * Resolves a URL path: each value percent-encoded, so it stays one path segment or one query value. Refuses (`unsafe`)
 * a value in the path part that is empty, `.` or `..`: percent-encoding leaves those as they are (and URL parsing reads `%2e%2e` as
 * `..`), so an absent label or a hostile annotation would point the request at another resource.
 */
export function resolvePath(text: string, scope: Scope): { path: string } | { unsafe: string } {
  let unsafe: string | undefined;
  const query = text.indexOf('?');
  const path = text.replace(PLACEHOLDER, (_, name: string, at: number) => {
    const value = lookUp(name, scope);
    if (value instanceof Pending) return value.text;
    const segment = asText(value);
    const inPath = query < 0 || at < query;
    if (inPath && (segment === '' || segment === '.' || segment === '..')) unsafe ??= `\${${name}} is ${JSON.stringify(segment)}`;
    return encodeURIComponent(segment);
  });
  return unsafe === undefined ? { path } : { unsafe };
}

/** A value written into a longer string: strings as they are, null as nothing, objects and arrays as JSON. */
export function asText(value: unknown): string {
  if (value instanceof Pending) return value.text;
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/**
 * Resolves every string value of a JSON tree (object keys stay as written). Objects are rebuilt with
 * Object.fromEntries, so a key such as `__proto__` stays a plain key.
 */
export function resolveTree(node: unknown, scope: Scope): unknown {
  if (typeof node === 'string') return resolveValue(node, scope);
  if (Array.isArray(node)) return node.map((item) => resolveTree(item, scope));
  if (node !== null && typeof node === 'object') return Object.fromEntries(Object.entries(node).map(([key, value]) => [key, resolveTree(value, scope)]));
  return node;
}
