import http from 'node:http';
import https from 'node:https';
import { withCheckSignal } from './check-signal.ts';
import type { Probe, ProbeResult } from './probe.ts';

const MAX_REDIRECTS = 10;
const MAX_BODY = 10 * 1024;

/**
 * The kubelet's httpGet probe (pkg/probe/http): GET, success for 200-399, same-host redirects followed (at most 10),
 * a redirect to another host is success with a warning, one timeout for connect + headers + body (read up to
 * 10 KiB), no keep-alive, TLS not verified. node:http rather than got: a poll runs many times a second and must
 * stay cheap, and these semantics are simpler to state directly.
 * `localhost` is tried as 127.0.0.1 and then ::1: resolvers disagree on it, and an app listens on one family only
 * (the classic hang of wait tools, jeffbski/wait-on #109).
 */
export function createHttpProbe(url: URL): Probe {
  return {
    target: url.href,
    check(deadline, timeoutMs) {
      return withCheckSignal(deadline, timeoutMs, (signal) => follow(deadline, signal, timeoutMs));
    },
  };

  async function follow(deadline: AbortSignal, timeout: AbortSignal, timeoutMs: number): Promise<ProbeResult> {
    let current = url;
    for (let hop = 0; ; hop++) {
      const answer = await getFromAnyLoopback(current, timeout).catch((error: unknown) => failure(error, deadline, timeoutMs));
      if (!('location' in answer)) return answer;
      if (hop >= MAX_REDIRECTS) return { ready: false, detail: `more than ${MAX_REDIRECTS} redirects` };
      const next = new URL(answer.location, current);
      if (next.hostname !== current.hostname) {
        return { ready: true, detail: `${answer.status} to ${next.host}`, warning: `redirect to another host ${next.host} not followed; counted as ready, as the kubelet does` };
      }
      current = next;
    }
  }
}

type Answer = ProbeResult | { status: number; location: string };

async function getFromAnyLoopback(url: URL, signal: AbortSignal): Promise<Answer> {
  if (url.hostname !== 'localhost') return get(url, signal);
  try {
    return await get(url, signal, '127.0.0.1');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ECONNREFUSED') throw error;
    return get(url, signal, '::1');
  }
}

function get(url: URL, signal: AbortSignal, address?: string): Promise<Answer> {
  const transport = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const request = transport.get(url, {
      ...(address ? { hostname: address } : {}),
      agent: false,
      signal,
      rejectUnauthorized: false,
      headers: { host: url.host, accept: '*/*', connection: 'close', 'user-agent': 'cmdb-hook-probe' },
    });
    request.on('error', reject);
    request.on('response', (response) => {
      const status = response.statusCode ?? 0;
      const location = response.headers.location;
      if (status >= 300 && status < 400 && location) {
        response.destroy();
        resolve({ status, location });
        return;
      }
      // The kubelet reads the body (up to 10 KiB) inside the same timeout; a body that never ends fails the check.
      let read = 0;
      response.on('data', (chunk: Buffer) => {
        read += chunk.length;
        if (read >= MAX_BODY) response.destroy();
      });
      const settle = () => resolve({ ready: status >= 200 && status < 400, detail: String(status) });
      response.on('end', settle);
      response.on('close', () => (read >= MAX_BODY ? settle() : reject(new Error('body not finished'))));
      response.on('error', reject);
    });
  });
}

function failure(error: unknown, signal: AbortSignal, timeoutMs: number): ProbeResult {
  if (signal.aborted) return { ready: false, detail: 'deadline reached' };
  const code = (error as { code?: string }).code;
  if (code === 'ABORT_ERR' || (error as Error).name === 'AbortError') return { ready: false, detail: `no answer within ${timeoutMs}ms` };
  return { ready: false, detail: code ?? (error instanceof Error ? error.message : String(error)) };
}
