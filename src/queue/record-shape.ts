/**
 * Whether a received value has the shape of a CmdbRecord (protocol v1) or of an inventory chunk: the consumer writes
 * records to the CMDB and retires by inventories, so a message of another shape is a poison message, named by what
 * is wrong with it, and never reaches a backend.
 */

type Shape = 'string' | 'nullable-string' | 'string-list' | 'string-map' | ((value: unknown) => string | undefined);

const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** A record id: `<pod uid>_<container>`, also one token of a NATS subject (no dot, wildcard or space). */
export const RECORD_ID = /^[A-Za-z0-9-]{1,128}_[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;

function problemOf(value: unknown, shape: Shape): string | undefined {
  if (typeof shape === 'function') return shape(value);
  switch (shape) {
    case 'string':
      return typeof value === 'string' ? undefined : 'must be a string';
    case 'nullable-string':
      return value === null || typeof value === 'string' ? undefined : 'must be a string or null';
    case 'string-list':
      return Array.isArray(value) && value.every((item) => typeof item === 'string') ? undefined : 'must be a list of strings';
    case 'string-map':
      return isObject(value) && Object.values(value).every((item) => typeof item === 'string') ? undefined : 'must be an object of strings';
  }
}

function objectOf(fields: Record<string, Shape>): (value: unknown) => string | undefined {
  return (value) => {
    if (!isObject(value)) return 'must be an object';
    for (const [name, shape] of Object.entries(fields)) {
      if (!(name in value)) return `.${name} is missing`;
      const problem = problemOf(value[name], shape);
      if (problem !== undefined) return problem.startsWith('.') ? `.${name}${problem}` : `.${name} ${problem}`;
    }
    return undefined;
  };
}

const RECORD = objectOf({
  id: (value) => (typeof value === 'string' && RECORD_ID.test(value) ? undefined : 'must be <pod uid>_<container>'),
  cluster: 'string',
  namespace: 'string',
  pod: objectOf({ name: 'string', uid: 'string', ip: 'nullable-string', ips: 'string-list' }),
  container: 'string',
  node: objectOf({ name: 'nullable-string', ip: 'nullable-string' }),
  app: 'nullable-string',
  labels: 'string-map',
  annotations: 'string-map',
  fields: 'string-map',
  state: (value) => (value === 'ready' || value === 'terminated' ? undefined : 'must be "ready" or "terminated"'),
  observedAt: (value) => (typeof value === 'string' && !Number.isNaN(Date.parse(value)) ? undefined : 'must be a date-time'),
  agent: objectOf({ name: 'string', version: 'string' }),
});

const count = (min: number) => (value: unknown) => (Number.isSafeInteger(value) && (value as number) >= min ? undefined : `must be an integer >= ${min}`);

const INVENTORY = objectOf({
  cluster: 'string',
  pass: 'string',
  index: count(0),
  total: count(1),
  ids: (value) => (Array.isArray(value) && value.every((id) => typeof id === 'string' && RECORD_ID.test(id)) ? undefined : 'must be a list of record ids'),
});

/** What is wrong with a record, `data.<field> ...`, or undefined when it has the record's shape. */
export function recordProblem(value: unknown): string | undefined {
  const problem = RECORD(value);
  return problem === undefined ? undefined : `data${problem.startsWith('.') ? '' : ' '}${problem}`;
}

/** What is wrong with an inventory chunk, or undefined. */
export function inventoryProblem(value: unknown): string | undefined {
  const problem = INVENTORY(value);
  if (problem !== undefined) return `data${problem.startsWith('.') ? '' : ' '}${problem}`;
  const { index, total, namespaces } = value as { index: number; total: number; namespaces?: unknown };
  if (namespaces !== undefined && !(Array.isArray(namespaces) && namespaces.every((name) => typeof name === 'string' && name.length > 0))) return 'data.namespaces must be a list of namespace names';
  return index < total ? undefined : `data.index ${index} is not below data.total ${total}`;
}
