/**
 * The sandbox CMDB: a small server that speaks cmdb-hook's generic protocol v1, for the tests and the demo. It does
 * not ship in the binary. It keeps records in memory (optionally saved to a JSON file), logs every request, checks
 * the record's shape and the bearer token like a strict CMDB would, and can inject faults: status codes, delays,
 * 429 with Retry-After, connections that are accepted and never answered, and a requests-per-second limit.
 *
 *   PUT    <base>/<id>   body: the record        -> 201 created | 200 replaced | 400 | 401
 *   DELETE <base>/<id>                           -> 204 | 404
 *   GET    <base>?cluster=<c>&limit=<n>[&after=<id>] -> 200 {"items": [records], "next": id | null} | 400
 *   GET    <base>                                -> 200 [records]
 *   GET    <base>/<id>                           -> 200 record | 404
 *   POST   /_sandbox/faults  body: Fault         -> 204 (control from another process)
 *   GET    /_sandbox/requests                    -> 200 [logged requests]
 *
 * Run it alone: node test/support/sandbox-cmdb.ts [--port 0] [--file db.json] [--token-file f] [--rate-limit 50]
 */
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { listPage } from './sandbox-list.ts';

export const RECORD_KEYS = ['id', 'cluster', 'namespace', 'pod', 'container', 'node', 'app', 'labels', 'annotations', 'fields', 'state', 'observedAt', 'agent'];

export interface StoredRecord {
  id: string;
  state: string;
  pod: { name: string; uid: string; ip: string | null; ips: string[] };
  [key: string]: unknown;
}

/** A fault applies to the next `times` matching requests (default 1); `hang` accepts and never answers. */
export interface Fault {
  status?: number;
  retryAfter?: string;
  body?: string;
  delayMs?: number;
  /** The answer is made at once and sent this much later: a listing page that shows the CMDB as it was when asked. */
  staleMs?: number;
  hang?: boolean;
  times?: number;
  method?: string;
}

export interface LoggedRequest {
  method: string;
  path: string;
  /** The query string as sent, with its `?` ("" when none). */
  query: string;
  /** performance.now() of this process when the request ended: comparable with the demo app's readyAt(). */
  at: number;
  /** Date.now() at the same moment, to compare with times other processes report. */
  wallAt: number;
  status: number;
  authorization: string | undefined;
  userAgent: string | undefined;
  contentType: string | undefined;
  body: string;
}

export interface SandboxOptions {
  port?: number;
  host?: string;
  file?: string;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  token?: string;
  /** Requests per second beyond which the answer is 429 with Retry-After: 1. */
  rateLimit?: number;
  /** Serve https with this PEM key and certificate; with `ca`, require client certificates signed by it (mTLS). */
  tls?: { key: string; cert: string; ca?: string };
}

export interface SandboxCmdb {
  /** The value for --cmdb-url. */
  url: string;
  origin: string;
  records: Map<string, StoredRecord>;
  requests: LoggedRequest[];
  /** Requests that reached the record API (not the control endpoints). */
  writes(): LoggedRequest[];
  injectFault(fault: Fault): void;
  clearFaults(): void;
  close(): Promise<void>;
}

const BASE = '/records';

export async function startSandboxCmdb(options: SandboxOptions = {}): Promise<SandboxCmdb> {
  const records = new Map<string, StoredRecord>(options.file ? load(options.file) : []);
  const requests: LoggedRequest[] = [];
  let faults: Fault[] = [];
  let windowStart = 0;
  let windowCount = 0;

  const save = () => {
    if (!options.file) return;
    writeFileSync(`${options.file}.tmp`, JSON.stringify([...records.values()], null, 2));
    renameSync(`${options.file}.tmp`, options.file);
  };

  const takeFault = (method: string): Fault | undefined => {
    const fault = faults.find((entry) => !entry.method || entry.method === method);
    if (!fault) return undefined;
    fault.times = (fault.times ?? 1) - 1;
    if (fault.times <= 0) faults = faults.filter((entry) => entry !== fault);
    return fault;
  };

  const overLimit = (): boolean => {
    if (!options.rateLimit) return false;
    const now = performance.now();
    if (now - windowStart >= 1000) {
      windowStart = now;
      windowCount = 0;
    }
    windowCount++;
    return windowCount > options.rateLimit;
  };

  const handler: http.RequestListener = (request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const method = request.method ?? 'GET';
      const { pathname: path, search: query, searchParams } = new URL(request.url ?? '/', 'http://sandbox');
      const entry: LoggedRequest = {
        method,
        path,
        query,
        at: performance.now(),
        wallAt: Date.now(),
        status: 0,
        authorization: request.headers.authorization,
        userAgent: request.headers['user-agent'],
        contentType: request.headers['content-type'],
        body,
      };
      requests.push(entry);
      let staleMs = 0;
      const reply = (status: number, payload?: unknown, headers: Record<string, string> = {}) => {
        entry.status = status;
        const text = payload === undefined ? '' : typeof payload === 'string' ? payload : JSON.stringify(payload);
        const send = () => {
          response.writeHead(status, { ...(text ? { 'content-type': 'application/json' } : {}), ...headers });
          response.end(text);
        };
        if (staleMs > 0) setTimeout(send, staleMs);
        else send();
      };

      if (path === '/_sandbox/faults' && method === 'POST') {
        faults.push(JSON.parse(body) as Fault);
        return reply(204);
      }
      if (path === '/_sandbox/requests') return reply(200, requests);
      if (!path.startsWith(BASE)) return reply(404, { error: 'no such path' });

      const fault = takeFault(method);
      staleMs = fault?.staleMs ?? 0;
      const answer = () => {
        if (fault?.hang) return; // accepted, never answered
        if (fault?.status) return reply(fault.status, fault.body ?? { error: `injected ${fault.status}` }, fault.retryAfter ? { 'retry-after': fault.retryAfter } : {});
        if (overLimit()) return reply(429, { error: 'rate limited' }, { 'retry-after': '1' });
        if (options.token && request.headers.authorization !== `Bearer ${options.token}`) return reply(401, { error: 'missing or wrong bearer token' });
        const id = decodeURIComponent(path.slice(BASE.length).replace(/^\//, ''));
        if (!id && method === 'GET' && query) return reply(...listPage(records, searchParams));
        handleRecords(method, id, body, reply);
      };
      if (fault?.delayMs) setTimeout(answer, fault.delayMs);
      else answer();
    });
  };
  const tls = options.tls;
  const server = tls
    ? https.createServer({ key: tls.key, cert: tls.cert, ...(tls.ca ? { ca: tls.ca, requestCert: true, rejectUnauthorized: true } : {}) }, handler)
    : http.createServer(handler);

  const handleRecords = (method: string, id: string, body: string, reply: (status: number, payload?: unknown) => void) => {
    if (!id) return method === 'GET' ? reply(200, [...records.values()]) : reply(405, { error: 'method not allowed' });
    if (method === 'GET') return records.has(id) ? reply(200, records.get(id)) : reply(404, { error: 'not found' });
    if (method === 'DELETE') {
      const existed = records.delete(id);
      save();
      return existed ? reply(204) : reply(404, { error: 'not found' });
    }
    if (method !== 'PUT') return reply(405, { error: 'method not allowed' });
    const problem = checkRecord(id, body);
    if (problem) return reply(400, { error: problem });
    const existed = records.has(id);
    records.set(id, JSON.parse(body) as StoredRecord);
    save();
    return reply(existed ? 200 : 201, records.get(id));
  };

  await new Promise<void>((resolve) => server.listen(options.port ?? 0, options.host ?? '127.0.0.1', resolve));
  const { port, address } = server.address() as AddressInfo;
  const origin = `${tls ? 'https' : 'http'}://${address.includes(':') ? `[${address}]` : address}:${port}`;
  return {
    url: `${origin}${BASE}`,
    origin,
    records,
    requests,
    writes: () => requests.filter((entry) => entry.path.startsWith(BASE) && entry.method !== 'GET'),
    injectFault: (fault) => faults.push({ ...fault }),
    clearFaults: () => (faults = []),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** The protocol's record shape, checked the way a strict CMDB would; undefined when it is fine. */
function checkRecord(id: string, body: string): string | undefined {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(body) as Record<string, unknown>;
  } catch {
    return 'body is not JSON';
  }
  const keys = Object.keys(record).sort();
  if (keys.join() !== [...RECORD_KEYS].sort().join()) return `top-level names must be exactly ${RECORD_KEYS.join(', ')}; got ${keys.join(', ')}`;
  if (record.id !== id) return `id ${String(record.id)} does not match the path ${id}`;
  if (record.state !== 'ready' && record.state !== 'terminated') return 'state must be ready or terminated';
  if (Number.isNaN(Date.parse(String(record.observedAt)))) return 'observedAt must be an ISO 8601 time';
  return undefined;
}

function load(file: string): [string, StoredRecord][] {
  try {
    return (JSON.parse(readFileSync(file, 'utf8')) as StoredRecord[]).map((record) => [record.id, record]);
  } catch {
    return [];
  }
}

if (import.meta.main) {
  const { values } = parseArgs({
    options: { port: { type: 'string', default: '0' }, host: { type: 'string' }, file: { type: 'string' }, 'token-file': { type: 'string' }, 'rate-limit': { type: 'string' } },
  });
  const sandbox = await startSandboxCmdb({
    port: Number(values.port),
    ...(values.host ? { host: values.host } : {}),
    ...(values.file ? { file: values.file } : {}),
    ...(values['token-file'] ? { token: readFileSync(values['token-file'], 'utf8').trim() } : {}),
    ...(values['rate-limit'] ? { rateLimit: Number(values['rate-limit']) } : {}),
  });
  console.log(`sandbox CMDB listening: --cmdb-url ${sandbox.url}`);
  const stop = () => void sandbox.close().then(() => process.exit(0));
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
