import http from 'node:http';
import https from 'node:https';
import type { Duplex } from 'node:stream';

/**
 * Largest response header section accepted: 64 KiB. Node refuses more than 16 KiB by default; the kubelet's Go client
 * accepts up to 10 MiB (net/http Transport MaxResponseHeaderBytes, default 10 << 20, left as is by pkg/probe/http).
 * 64 KiB is the default of .NET's HttpClient (MaxResponseHeadersLength) and keeps memory small: the hook runs inside
 * the app container's memory limit, and an app answering every 30 ms poll with N bytes of headers leaves garbage that
 * raises peak RSS (measured: +6 to 10 MB at 64 KiB, +12 to 28 MB at 256 KiB, +21 to 57 MB at 1 MiB).
 */
export const MAX_HEADER_BYTES = 64 * 1024;

const USER_AGENT = 'cmdb-hook-probe';

/**
 * One GET of a readiness check, resolved with the response once its headers are in (the body is left to the
 * caller), rejected on anything that is not an HTTP answer. Headers as the kubelet sends them (pkg/probe/http
 * request.go, with Go's Transport: DisableKeepAlives, DisableCompression): Host, User-Agent, Accept (any type),
 * Connection: close, and on a redirect Go's Referer. `localhost` is tried as 127.0.0.1 and then ::1: resolvers
 * disagree on it, and an app listens on one family only (the classic hang of wait tools, jeffbski/wait-on #109).
 */
export async function sendGet(url: URL, signal: AbortSignal, referer?: string): Promise<http.IncomingMessage> {
  if (url.hostname !== 'localhost') return send(url, signal, referer);
  try {
    return await send(url, signal, referer, '127.0.0.1');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED') throw error;
    return send(url, signal, referer, '::1');
  }
}

function send(url: URL, signal: AbortSignal, referer: string | undefined, address?: string): Promise<http.IncomingMessage> {
  // Go's client refuses any other scheme before connecting ("unsupported protocol scheme").
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return Promise.reject(new Error(`unsupported protocol scheme "${url.protocol.slice(0, -1)}"`));
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.get(url, {
      ...(address ? { hostname: address } : {}),
      agent: false,
      signal,
      rejectUnauthorized: false,
      maxHeaderSize: MAX_HEADER_BYTES,
      headers: { host: url.host, 'user-agent': USER_AGENT, accept: '*/*', connection: 'close', ...(referer ? { referer } : {}) },
    });
    request.on('error', (error: NodeJS.ErrnoException) => reject(error.code === 'HPE_HEADER_OVERFLOW' ? new Error(`response headers larger than ${MAX_HEADER_BYTES / 1024} KiB`) : error));
    request.on('response', resolve);
    // A 101 answer is final for Go's client and fails the probe (status < 200); Node hands it over only here.
    request.on('upgrade', (response: http.IncomingMessage, socket: Duplex) => {
      socket.destroy();
      resolve(response);
    });
    // Without this a connection closed with no answer and no error (seen after a 101) would leave the check pending.
    request.on('close', () => reject(new Error('connection closed without an answer')));
  });
}

/**
 * Reads the body up to `limit` bytes, then lets the connection go. Resolves undefined when the body ended or the
 * limit was reached (the kubelet reads at most 10 KiB and a longer body is not an error: utils/io ReadAtMost), and
 * the error when the body broke off or the check's time ran out first.
 */
export function readBody(response: http.IncomingMessage, limit: number): Promise<Error | undefined> {
  // A body without length or chunks ends when the connection closes, and Node ends it the same way when the check's
  // own abort closes the connection (its socket then carries the AbortError): that is a body that did not end in time.
  const socket = response.socket;
  return new Promise((resolve) => {
    let read = 0;
    let ended = false;
    response.on('data', (chunk: Buffer) => {
      read += chunk.length;
      if (read >= limit) response.destroy();
    });
    response.on('end', () => (ended = !socket?.errored));
    response.on('error', () => undefined);
    response.on('close', () => resolve(ended || read >= limit ? undefined : (response.errored ?? new Error('body not finished'))));
  });
}
