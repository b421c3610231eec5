/**
 * The inventory of a full pass: the ids of the cluster's live records, so the consumer side can retire what a lost
 * message left behind. It can be large (one id is about 50 bytes: 10,000 containers make 500 KB), so it is split into
 * chunks that each stay under the broker's message size limit; each chunk names its pass, its index and the total,
 * so the consumer acts only on a pass it holds every chunk of.
 */
import { CloudEvent } from 'cloudevents';
import { canonicalJson, encodeEvent, EVENT_TYPES, eventSource, sha256 } from './event.ts';

export interface InventoryData {
  cluster: string;
  /** Names the full pass the chunk belongs to: unique per pass of a publisher. */
  pass: string;
  /** 0-based. */
  index: number;
  total: number;
  /** Sorted record ids. */
  ids: string[];
  /**
   * The namespaces the publisher watches (its --namespace), sorted; empty or absent: every namespace. The consumer
   * retires only within them: a namespaced publisher's inventory says nothing of the other namespaces' records.
   */
  namespaces?: string[];
}

/** The CloudEvents subject of an inventory chunk, and its routing key. */
export const INVENTORY_SUBJECT = 'inventory';

/**
 * The most bytes one message body may take by default. JetStream's default max_payload is 1 MiB (1,048,576 bytes,
 * nats-server's MAX_PAYLOAD_SIZE) and counts the headers too (Nats-Msg-Id, the content type, a dead-letter reason), so
 * 4 KiB are left for them. RabbitMQ's default max_message_size is larger (128 MiB since 3.8, 16 MiB from 4.0), so
 * JetStream's is the smaller of the two.
 */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024 - 4 * 1024;

/** A pass name is also part of a NATS subject and of the event id: one token, no dots or wildcards. */
const PASS_NAME = /^[A-Za-z0-9_-]{1,64}$/;

/** A pass name from when the pass started and who ran it (the publisher's identity, e.g. its Lease holder name). */
export function inventoryPass(startedAt: Date, publisher: string): string {
  return `${startedAt.getTime().toString(36)}-${sha256(publisher).slice(0, 8)}`;
}

export interface InventoryOptions {
  cluster: string;
  pass: string;
  ids: Iterable<string>;
  /** The publisher's --namespace list (empty: every namespace). */
  namespaces?: readonly string[];
  at: Date;
  maxBodyBytes?: number;
}

/**
 * The chunks of one inventory, each body at most `maxBodyBytes`. An empty cluster is one chunk with no ids: "nothing
 * is live" is information too. Each chunk's id is derived from its pass, position and content, so two publishers that
 * send the same inventory under the same pass name are deduplicated and two different ones never share an id.
 */
export function inventoryEvents(options: InventoryOptions): CloudEvent<InventoryData>[] {
  const { cluster, pass, at, maxBodyBytes = DEFAULT_MAX_BODY_BYTES } = options;
  const namespaces = [...new Set(options.namespaces ?? [])].sort();
  if (!PASS_NAME.test(pass)) throw new TypeError(`inventory pass name ${JSON.stringify(pass)} must be 1 to 64 of A-Z a-z 0-9 _ -`);
  const ids = [...new Set(options.ids)].sort();
  // The envelope without ids, measured with the widest index and total a chunk can have.
  const widest = 9_999_999;
  const overhead = encodeEvent(chunkEvent(cluster, pass, at, widest, widest, [], namespaces)).length;
  const chunks: string[][] = [[]];
  let size = overhead;
  for (const id of ids) {
    const cost = Buffer.byteLength(JSON.stringify(id)) + 1;
    if (overhead + cost > maxBodyBytes) throw new RangeError(`record id ${id} alone does not fit an inventory message of ${maxBodyBytes} bytes`);
    let current = chunks[chunks.length - 1] as string[];
    if (size + cost > maxBodyBytes) {
      current = [];
      chunks.push(current);
      size = overhead;
    }
    current.push(id);
    size += cost;
  }
  return chunks.map((chunk, index) => chunkEvent(cluster, pass, at, index, chunks.length, chunk, namespaces));
}

function chunkEvent(cluster: string, pass: string, at: Date, index: number, total: number, ids: string[], namespaces: string[]): CloudEvent<InventoryData> {
  const data: InventoryData = { cluster, pass, index, total, ids, ...(namespaces.length > 0 ? { namespaces } : {}) };
  return new CloudEvent<InventoryData>({
    specversion: '1.0',
    id: `inventory.${pass}.${index}.${sha256(canonicalJson(data)).slice(0, 32)}`,
    source: eventSource(cluster),
    type: EVENT_TYPES.inventory,
    subject: INVENTORY_SUBJECT,
    time: at.toISOString(),
    datacontenttype: 'application/json',
    data,
  });
}
