/**
 * Hostile peers for test/e2e/fault-matrix.test.ts: loopback servers that play a broken CMDB or a broken app at the
 * socket level, where HTTP can be broken in ways node:http would not produce. Each peer keeps what its connections
 * sent (a token must reach the CMDB and nothing else). Where a fault can carry text back, it echoes the request head,
 * Authorization included, as is, base64-encoded, percent-encoded and JSON-escaped: the agent must mask every form.
 * The shape of the matrix's rows (a fault, and what the README promises under it) is at the end.
 */
import net from 'node:net';
import tls from 'node:tls';

/** What a peer does once a connection's request head is in (or at once, for one that never reads). */
export type Behaviour = (socket: net.Socket, head: string) => void;

export interface Peer {
  /** `http://127.0.0.1:<port>` (https with a certificate); add the path. */
  origin: string;
  /** Everything every connection sent, as latin1 text. */
  received(): string;
  /** TCP connections accepted. */
  connections(): number;
  close(): Promise<void>;
}

const CHUNK = Buffer.alloc(64 * 1024, 'x');

/** The request head in every form a careless server might echo it. */
export function echoOf(head: string): string {
  return [head, Buffer.from(head).toString('base64'), encodeURIComponent(head), JSON.stringify(head).replaceAll('/', '\\/')].join('\n');
}

/** The value of the Authorization header in a head, or a stand-in when there is none. */
function authorizationOf(head: string): string {
  return /^authorization: (.*)$/im.exec(head)?.[1]?.trim() ?? 'no credentials';
}

function answer(socket: net.Socket, status: string, headers: Record<string, string>, body: string): void {
  const lines = Object.entries({ ...headers, 'content-length': String(Buffer.byteLength(body)), connection: 'close' }).map(([name, value]) => `${name}: ${value}\r\n`);
  socket.end(`HTTP/1.1 ${status}\r\n${lines.join('')}\r\n${body}`);
}

/** Writes 64 KiB chunks as fast as the client reads them, for ever. */
function pour(socket: net.Socket): void {
  while (!socket.destroyed && socket.write(CHUNK));
  if (!socket.destroyed) socket.once('drain', () => pour(socket));
}

/** Runs `step` every `ms` until the connection closes. */
function every(socket: net.Socket, ms: number, step: () => void): void {
  const timer = setInterval(step, ms);
  socket.on('close', () => clearInterval(timer));
}

export const behaviours = {
  /** Accepts the connection and never answers. */
  blackhole: (): Behaviour => () => undefined,
  /** A status line, then one header line every 50 ms (each an echo of a line of the request): the head never ends. */
  slowHeaders: (): Behaviour => (socket, head) => {
    const lines = head.split('\r\n');
    let next = 0;
    socket.write('HTTP/1.1 200 OK\r\n');
    every(socket, 50, () => socket.write(`x-echo-${next}: ${lines[next++ % lines.length]}\r\n`));
  },
  /** A status and an echo, then a body without length that never ends: as fast as read, or a byte every 100 ms. */
  endlessBody: (status: string, pace: 'fast' | 'trickle' = 'fast'): Behaviour => (socket, head) => {
    socket.write(`HTTP/1.1 ${status}\r\ncontent-type: text/plain\r\nconnection: close\r\n\r\n${pace === 'fast' ? echoOf(head) : ''}`);
    if (pace === 'fast') pour(socket);
    else every(socket, 100, () => socket.write('x'));
  },
  /** Headers announcing 100000 bytes, part of an echo, then a TCP reset. */
  resetMidAnswer: (): Behaviour => (socket, head) => {
    socket.write(`HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\ncontent-length: 100000\r\n\r\n${echoOf(head)}`);
    setTimeout(() => socket.resetAndDestroy(), 20);
  },
  /** A whole answer with this status; the reason phrase and the body echo the credentials. */
  status: (code: number, headers: Record<string, string> = {}): Behaviour => (socket, head) =>
    answer(socket, `${code} Refused for ${authorizationOf(head)}`, { 'content-type': 'text/plain', ...headers }, echoOf(head)),
  /** 302 back to the same path, the credentials in the query. */
  redirectLoop: (): Behaviour => (socket, head) => {
    const path = head.split(' ')[1] ?? '/';
    answer(socket, '302 Found', { location: `${path.split('?')[0]}?seen=${encodeURIComponent(authorizationOf(head))}` }, echoOf(head));
  },
  /** 302 with a Location no URL parser takes. */
  badLocation: (): Behaviour => (socket) => answer(socket, '302 Found', { location: 'http://[bad' }, ''),
  /** 200 with 256 KiB of headers. */
  hugeHeaders: (): Behaviour => (socket) => answer(socket, '200 OK', { 'x-huge': 'a'.repeat(256 * 1024) }, 'ok'),
  /** Not HTTP: binary noise, then the request echoed, then the connection closes. */
  garbage: (): Behaviour => (socket, head) => socket.end(Buffer.concat([Buffer.from([0, 0xff, 0xfe, 0x13, 0x37]), Buffer.from(`SSH-2.0-noise\r\n${echoOf(head)}`)])),
} as const;

/** A loopback port that nothing listens on: connections to it are refused. */
export async function refusedOrigin(): Promise<string> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return `http://127.0.0.1:${port}`;
}

/** A peer on 127.0.0.1, port 0, that plays `behaviour` on every connection; over TLS with `certificate`. */
export async function startPeer(behaviour: Behaviour, certificate?: { key: string; cert: string }): Promise<Peer> {
  const sockets = new Set<net.Socket>();
  const chunks: Buffer[] = [];
  let connections = 0;
  const serve = (socket: net.Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined).on('close', () => sockets.delete(socket));
    let head = '';
    let started = false;
    socket.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      if (started) return;
      head += chunk.toString('latin1');
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      started = true;
      behaviour(socket, head.slice(0, end));
    });
  };
  const server = certificate ? tls.createServer(certificate, serve) : net.createServer(serve);
  server.on('connection', () => connections++);
  if (certificate) server.on('tlsClientError', () => undefined);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  return {
    origin: `${certificate ? 'https' : 'http'}://127.0.0.1:${port}`,
    received: () => Buffer.concat(chunks).toString('latin1'),
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Where a row of test/e2e/fault-matrix.test.ts points the hook, and how. */
export interface Target {
  /** --cmdb-url or --ready-url. */
  url: string;
  peer?: Peer;
  /** Extra flags (TLS files). */
  args?: string[];
  /** Runs argv some other way (in a mount namespace). */
  wrap?: (argv: string[]) => string[];
}

/** A row of the fault matrix: the fault, and what the README promises under it. */
export interface Fault {
  name: string;
  start: () => Promise<Target>;
  /**
   * The exit code with --strict (2: regardless of --strict); and what stderr must say: the summary line, or the log
   * line of a failed attempt or check (the deadline may cut the last one short, and the summary names that).
   */
  exit: 0 | 2 | 3 | 4 | 5;
  says: RegExp;
  /** Skip the row when it cannot run here, with the reason. */
  needs?: () => string | undefined;
  /** Why peak memory is not held to the budget in this row (a known gap, measured). */
  memoryUnbounded?: string;
  /** Decided by the first answer, not retried: one connection, and the long timeout. */
  atOnce?: boolean;
  /** Run with no other row at the same time: its exit costs a second start of the runtime, which load delays. */
  alone?: boolean;
}

/** A row's target: a fresh peer that plays `behaviour`, at `path` on its origin. */
export const serve = (behaviour: Behaviour, path: string, certificate?: { key: string; cert: string }) => async (): Promise<Target> => {
  const peer = await startPeer(behaviour, certificate);
  return { url: `${peer.origin}${path}`, peer };
};
