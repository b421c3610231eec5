import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildRecord, type CmdbRecord } from '../../src/pod/record.ts';
import { decodeEvent } from '../../src/queue/decode-event.ts';
import { encodeEvent, EVENT_TYPES, transitionEvent, transitionId } from '../../src/queue/event.ts';
import { inventoryEvents, inventoryPass } from '../../src/queue/inventory.ts';

const UID = '6f1c2a7e-3d4b-4c5a-9e8f-0a1b2c3d4e5f';

function record(overrides: { ip?: string; labels?: Record<string, string>; state?: CmdbRecord['state']; at?: string; version?: string } = {}): CmdbRecord {
  const pod = {
    name: 'web-7d9f-abcde', uid: UID, namespace: 'shop', ip: overrides.ip ?? '10.0.0.7', ips: [overrides.ip ?? '10.0.0.7'],
    nodeName: 'node-a', hostIp: '192.168.0.10', labels: overrides.labels ?? { app: 'web' }, annotations: {}, notes: [],
  };
  const built = buildRecord(pod, { cluster: 'prod', container: 'app', app: undefined, fields: {} }, overrides.state ?? 'ready', new Date(overrides.at ?? '2026-01-01T00:00:00Z'));
  return overrides.version ? { ...built, agent: { ...built.agent, version: overrides.version } } : built;
}

const decoded = (body: Uint8Array | string, cluster = 'prod') => decodeEvent(typeof body === 'string' ? Buffer.from(body) : body, cluster);

describe('transition ids', () => {
  it('are the same for two publishers deriving the same transition, whenever and whichever version observed it', () => {
    const first = transitionId({ kind: 'registered', record: record({ at: '2026-01-01T00:00:00Z' }), resourceVersion: '1200' });
    const second = transitionId({ kind: 'registered', record: record({ at: '2026-01-01T00:05:00Z', version: '9.9.9' }), resourceVersion: '1200' });
    assert.equal(first, second);
    assert.match(first, /^6f1c2a7e-3d4b-4c5a-9e8f-0a1b2c3d4e5f_app\.r\.[0-9a-f]{32}$/);
    const gone = (at: string) => transitionId({ kind: 'deregistered', record: record({ state: 'terminated', at }) });
    assert.equal(gone('2026-01-01T01:00:00Z'), gone('2026-01-01T02:00:00Z'), 'a deregistration of a gone pod is the same for a watcher and a relister');
  });

  it('differ for every transition of one record: registered A, updated to B, back to A, deregistered', () => {
    const ids = [
      transitionId({ kind: 'registered', record: record({ ip: '10.0.0.7' }), resourceVersion: '1200' }),
      transitionId({ kind: 'registered', record: record({ ip: '10.0.0.7', labels: { app: 'web', tier: 'front' } }), resourceVersion: '1300' }),
      transitionId({ kind: 'registered', record: record({ ip: '10.0.0.7' }), resourceVersion: '1400' }),
      transitionId({ kind: 'deregistered', record: record({ state: 'terminated' }) }),
    ];
    assert.equal(new Set(ids).size, 4, ids.join('\n'));
  });

  it('differ when two publishers build different facts from one pod version, and for a deregistration while the pod lives on', () => {
    const a = transitionId({ kind: 'registered', record: record({ labels: { app: 'web' } }), resourceVersion: '1200' });
    const b = transitionId({ kind: 'registered', record: record({ labels: { app: 'web', x: 'y' } }), resourceVersion: '1200' });
    assert.notEqual(a, b);
    const endWhileAlive = transitionId({ kind: 'deregistered', record: record({ state: 'terminated' }), resourceVersion: '1500' });
    const endGone = transitionId({ kind: 'deregistered', record: record({ state: 'terminated' }) });
    assert.notEqual(endWhileAlive, endGone);
  });

  it('need the resourceVersion for a registration', () => {
    assert.throws(() => transitionId({ kind: 'registered', record: record() }), /needs the pod's resourceVersion/);
  });
});

describe('transition events', () => {
  it('are CloudEvents 1.0 in structured JSON that decode back to the record', () => {
    const rec = record();
    const event = transitionEvent({ kind: 'registered', record: rec, resourceVersion: '1200' });
    const body = JSON.parse(Buffer.from(encodeEvent(event)).toString()) as Record<string, unknown>;
    assert.equal(body.specversion, '1.0');
    assert.equal(body.type, 'io.cmdb-hook.container.registered');
    assert.equal(body.source, 'cmdb-hook/prod');
    assert.equal(body.subject, rec.id);
    assert.equal(body.datacontenttype, 'application/json');
    assert.deepEqual(body.data, rec);
    assert.equal(body.resourceversion, '1200', 'the pod version rides along, for consumers that get transitions out of order');
    assert.deepEqual(decoded(encodeEvent(event)), { ok: true, kind: 'registered', id: event.id, record: rec, version: 1200n });
    const end = transitionEvent({ kind: 'deregistered', record: record({ state: 'terminated' }) });
    assert.equal(end.type, EVENT_TYPES.deregistered);
    assert.equal(decoded(encodeEvent(end)).ok, true);
    assert.equal('version' in decoded(encodeEvent(end)), false, 'a pod gone for good has no version: the end is final');
  });
});

describe('decoding names what is wrong with a poison message', () => {
  const good = JSON.parse(Buffer.from(encodeEvent(transitionEvent({ kind: 'registered', record: record(), resourceVersion: '1' }))).toString()) as Record<string, unknown>;
  const variant = (change: Record<string, unknown>) => JSON.stringify({ ...good, ...change });
  const cases: [string, Uint8Array | string, RegExp, string?][] = [
    ['not UTF-8', Uint8Array.of(0xff, 0xfe, 0x00), /not UTF-8/],
    ['not JSON', 'hello', /not JSON \(5 bytes\)/],
    ['a JSON array', '[1,2]', /not a JSON object/],
    ['another specversion', variant({ specversion: '0.3' }), /specversion is "0.3", expected "1.0"/],
    ['an empty id', variant({ id: '' }), /id is "", expected a non-empty string/],
    ['an unknown type', variant({ type: 'com.example.other' }), /type "com.example.other" is not one of io.cmdb-hook/],
    ['another cluster', variant({ source: 'cmdb-hook/staging' }), /source is "cmdb-hook\/staging", expected "cmdb-hook\/prod"/],
    ['a bad time', variant({ time: 'yesterday' }), /^not a valid CloudEvent: \/time must match format "date-time"$/],
    ['an upper-case extension', variant({ podUid: 'x' }), /invalid extension name: podUid/],
    ['no data', variant({ data: undefined }), /^data must be an object$/],
    ['a record without labels', variant({ data: { ...(good.data as object), labels: undefined } }), /^data\.labels is missing$/],
    ['a pod ip of the wrong type', variant({ data: { ...(good.data as object), pod: { ...(good.data as CmdbRecord).pod, ip: 7 } } }), /^data\.pod\.ip must be a string or null$/],
    ['a subject other than the record id', variant({ subject: 'other' }), /subject is "other", expected the record id/],
    ['a registration of a terminated record', variant({ data: { ...(good.data as object), state: 'terminated' } }), /data\.state is "terminated", expected "ready"/],
    ['base64 data', variant({ data_base64: 'AAAA' }), /data_base64/],
  ];
  for (const [name, body, problem] of cases) {
    it(name, () => {
      const result = decoded(body);
      assert.equal(result.ok, false);
      assert.match((result as { problem: string }).problem, problem);
    });
  }
});

describe('inventory', () => {
  const ids = Array.from({ length: 5000 }, (_, index) => `${String(index).padStart(8, '0')}-aaaa-bbbb-cccc-000000000000_app`);
  const at = new Date('2026-01-01T00:00:00Z');
  const pass = inventoryPass(at, 'publisher-0');

  it('is chunked under the size limit, each chunk naming its pass, index and total, all ids exactly once', () => {
    const limit = 16 * 1024;
    const events = inventoryEvents({ cluster: 'prod', pass, ids: [...ids].reverse(), at, maxBodyBytes: limit });
    assert.ok(events.length > 10, `${events.length} chunks`);
    const seen: string[] = [];
    events.forEach((event, index) => {
      const body = encodeEvent(event);
      assert.ok(body.length <= limit, `chunk ${index}: ${body.length} bytes`);
      const result = decoded(body);
      assert.ok(result.ok && result.kind === 'inventory', JSON.stringify(result));
      assert.deepEqual([result.inventory.pass, result.inventory.index, result.inventory.total], [pass, index, events.length]);
      seen.push(...result.inventory.ids);
    });
    assert.deepEqual(seen, [...ids].sort());
    assert.equal(new Set(events.map((event) => event.id)).size, events.length);
  });

  it('fits the default limit in one message for 5000 ids, and an empty cluster is one chunk saying so', () => {
    assert.equal(inventoryEvents({ cluster: 'prod', pass, ids, at }).length, 1);
    const empty = inventoryEvents({ cluster: 'prod', pass, ids: [], at });
    assert.equal(empty.length, 1);
    assert.deepEqual(empty[0]?.data?.ids, []);
  });

  it('has ids from pass and content: the same inventory twice is deduplicated, another never shares an id', () => {
    const once = inventoryEvents({ cluster: 'prod', pass, ids, at }).map((event) => event.id);
    assert.deepEqual(inventoryEvents({ cluster: 'prod', pass, ids: [...ids].reverse(), at }).map((event) => event.id), once);
    assert.notDeepEqual(inventoryEvents({ cluster: 'prod', pass, ids: ids.slice(1), at }).map((event) => event.id), once);
  });

  it('carries the publisher\'s namespaces, sorted, in every chunk; none for a publisher of every namespace', () => {
    const events = inventoryEvents({ cluster: 'prod', pass, ids, at, maxBodyBytes: 64 * 1024, namespaces: ['shop', 'ads', 'shop'] });
    assert.ok(events.length > 1);
    for (const event of events) {
      const result = decoded(encodeEvent(event));
      assert.ok(result.ok && result.kind === 'inventory');
      assert.deepEqual(result.inventory.namespaces, ['ads', 'shop']);
    }
    assert.equal(inventoryEvents({ cluster: 'prod', pass, ids, at }).at(0)?.data?.namespaces, undefined);
  });

  it('refuses a pass name that cannot be a subject token, and decoding refuses an index past the total', () => {
    assert.throws(() => inventoryEvents({ cluster: 'prod', pass: 'a.b', ids, at }), /pass name "a.b"/);
    const [chunk] = inventoryEvents({ cluster: 'prod', pass, ids: ids.slice(0, 2), at });
    const body = JSON.parse(Buffer.from(encodeEvent(chunk!)).toString()) as { data: object };
    const result = decoded(JSON.stringify({ ...body, data: { ...body.data, index: 3, total: 2 } }));
    assert.deepEqual(result, { ok: false, problem: 'data.index 3 is not below data.total 2' });
  });
});
