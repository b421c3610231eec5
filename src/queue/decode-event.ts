/**
 * Reads a received body back into an event, or names what is wrong with it. Never throws: a poison message (not
 * UTF-8, not JSON, another specversion, an unknown type, a foreign source, data of the wrong shape) is recognised and
 * dead-lettered by the consumer with the reason this returns, and the rest of the stream keeps flowing.
 */
import { CloudEvent, ValidationError } from 'cloudevents';
import { recordId, type CmdbRecord } from '../pod/record.ts';
import { EVENT_TYPES, eventSource, type TransitionKind } from './event.ts';
import { INVENTORY_SUBJECT, type InventoryData } from './inventory.ts';
import { inventoryProblem, recordProblem } from './record-shape.ts';

export type Decoded =
  | { ok: true; kind: TransitionKind; id: string; record: CmdbRecord; version?: bigint }
  | { ok: true; kind: 'inventory'; id: string; inventory: InventoryData }
  | { ok: false; problem: string };

const KINDS = new Map<string, TransitionKind | 'inventory'>(Object.entries(EVENT_TYPES).map(([kind, type]) => [type, kind as TransitionKind | 'inventory']));
const STATE_OF: Record<TransitionKind, CmdbRecord['state']> = { registered: 'ready', deregistered: 'terminated' };

/** A value as a message may show it: quoted and cut short, since a poison body can be anything and anything long. */
function shown(value: unknown): string {
  const text = value === undefined ? 'undefined' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

/**
 * Decodes one structured-mode body. `cluster` is the consumer's own --cluster: an event of another cluster's source
 * is refused rather than applied to the wrong records.
 */
export function decodeEvent(body: Uint8Array, cluster: string): Decoded {
  const fail = (problem: string): Decoded => ({ ok: false, problem });
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body);
  } catch {
    return fail('the body is not UTF-8 text');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return fail(`the body is not JSON (${body.length} bytes)`);
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return fail('the body is not a JSON object (a structured-mode CloudEvent)');
  const event = parsed as Record<string, unknown>;
  // The cloudevents package accepts any specversion and replaces an empty id with a random one: checked here first.
  if (event.specversion !== '1.0') return fail(`specversion is ${shown(event.specversion)}, expected "1.0"`);
  if (typeof event.id !== 'string' || event.id === '') return fail(`id is ${shown(event.id)}, expected a non-empty string`);
  const kind = typeof event.type === 'string' ? KINDS.get(event.type) : undefined;
  if (kind === undefined) return fail(`type ${shown(event.type)} is not one of ${[...KINDS.keys()].join(', ')}`);
  if (event.source !== eventSource(cluster)) return fail(`source is ${shown(event.source)}, expected "${eventSource(cluster)}" (this consumer's --cluster)`);
  if (event.datacontenttype !== undefined && event.datacontenttype !== 'application/json') {
    return fail(`datacontenttype is ${shown(event.datacontenttype)}, expected "application/json"`);
  }
  if ('data_base64' in event) return fail('data_base64 is set: the data must be JSON in "data"');
  try {
    // The package's own checks: the spec's attribute types, `time` a date-time, extension names lowercase alphanumeric.
    new CloudEvent(event, true);
  } catch (error) {
    return fail(`not a valid CloudEvent: ${validationProblem(error)}`);
  }
  const data = event.data;
  if (kind === 'inventory') {
    if (event.subject !== INVENTORY_SUBJECT) return fail(`subject is ${shown(event.subject)}, expected "${INVENTORY_SUBJECT}" for ${event.type as string}`);
    const problem = inventoryProblem(data);
    if (problem !== undefined) return fail(problem);
    const inventory = data as InventoryData;
    if (inventory.cluster !== cluster) return fail(`data.cluster is ${shown(inventory.cluster)}, expected "${cluster}"`);
    return { ok: true, kind, id: event.id, inventory };
  }
  const problem = recordProblem(data);
  if (problem !== undefined) return fail(problem);
  const record = data as CmdbRecord;
  if (event.subject !== record.id) return fail(`subject is ${shown(event.subject)}, expected the record id ${shown(record.id)}`);
  if (record.id !== recordId(record.pod.uid, record.container)) return fail(`data.id ${shown(record.id)} is not data.pod.uid_data.container`);
  if (record.cluster !== cluster) return fail(`data.cluster is ${shown(record.cluster)}, expected "${cluster}"`);
  if (record.state !== STATE_OF[kind]) return fail(`data.state is "${record.state}", expected "${STATE_OF[kind]}" for ${event.type as string}`);
  const version = versionOf(event.resourceversion);
  return { ok: true, kind, id: event.id, record, ...(version === undefined ? {} : { version }) };
}

/**
 * The pod version a transition was derived from, when it is one Kubernetes lets clients compare (a positive integer
 * without leading zeros: apimachinery's CompareResourceVersion); anything else is not compared, never refused.
 */
function versionOf(value: unknown): bigint | undefined {
  return typeof value === 'string' && /^[1-9][0-9]{0,39}$/.test(value) ? BigInt(value) : undefined;
}

/** The package's ValidationError carries ajv's errors (`/time must match format "date-time"`) or a multi-line text. */
function validationProblem(error: unknown): string {
  const errors = error instanceof ValidationError && Array.isArray(error.errors) ? error.errors : [];
  const parts = errors.map((item) => {
    const { instancePath, message } = (typeof item === 'object' && item !== null ? item : {}) as { instancePath?: unknown; message?: unknown };
    return typeof message === 'string' ? `${typeof instancePath === 'string' ? instancePath : ''} ${message}`.trim() : JSON.stringify(item);
  });
  const first = ((error as Error).message ?? String(error)).trim().split('\n')[0] ?? '';
  return (parts.length > 0 ? parts.join('; ') : first).slice(0, 200);
}
