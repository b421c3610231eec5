import type http from 'node:http';
import { withCheckSignal } from './check-signal.ts';
import { readBody, sendGet } from './http-exchange.ts';
import type { Probe, ProbeResult } from './probe.ts';
import { resolveLocation } from './redirect-location.ts';

/** Go's client follows only these, and only with a Location (net/http client.go: redirectBehavior). */
const FOLLOWED = new Set([301, 302, 303, 307, 308]);
/** Go's default CheckRedirect refuses a redirect once 10 requests were made (len(via) >= 10): 9 redirects followed. */
const MAX_REQUESTS = 10;
/** The kubelet reads at most 10 KiB of the final body (pkg/probe/http maxRespBodyLength). */
const MAX_BODY = 10 * 1024;
/** Go reads up to 2 KiB of a followed redirect's body first, when it is that short or of unknown length (client.go). */
const REDIRECT_SLURP = 2 * 1024;

/**
 * The kubelet's httpGet probe (kubernetes pkg/probe/http, on Go's net/http client), step by step:
 * - GET; success for 200-399; a 3xx that ends the check (not one Go follows, no Location, another host) is success
 *   with a warning, as the kubelet's Warning result (a ProbeWarning event, counted as success);
 * - 301, 302, 303, 307 and 308 with a Location are followed when the new host name (port and scheme aside) is the
 *   first URL's; at most 10 requests, so the 10th answer redirecting again fails ("stopped after 10 redirects");
 * - a Location that does not parse fails the check; the app's answers never end the run;
 * - one timeout for connects, headers, redirects and bodies; the body read up to 10 KiB; no keep-alive; TLS not
 *   verified.
 * node:http rather than got: a poll runs every few tens of milliseconds and must stay cheap.
 */
export function createHttpProbe(url: URL): Probe {
  return {
    target: url.href,
    check(budget) {
      const { signal: deadline, timeoutMs } = budget;
      return withCheckSignal(budget, async (signal) => {
        try {
          return await follow(url, { signal, timeoutMs });
        } catch (error) {
          // Whatever the error looks like, a check ended by its own signal ran out of time.
          return { ready: false, detail: deadline.aborted ? 'deadline reached' : signal.aborted ? `no answer within ${timeoutMs}ms` : describe(error) };
        }
      });
    },
  };
}

interface Check {
  signal: AbortSignal;
  timeoutMs: number;
}

async function follow(first: URL, check: Check): Promise<ProbeResult> {
  let current = first;
  let referer: string | undefined;
  for (let requests = 1; ; requests++) {
    const response = await sendGet(current, check.signal, referer);
    const status = response.statusCode ?? 0;
    const location = FOLLOWED.has(status) ? response.headers.location : undefined;
    if (!location) return answer(response, status, '', check);
    const next = resolveLocation(location, current);
    if (typeof next === 'string') {
      response.destroy();
      return { ready: false, detail: next };
    }
    if (next.hostname !== first.hostname) return answer(response, status, ` to ${next.host}, another host: not followed`, check);
    const length = Number(response.headers['content-length'] ?? -1);
    if (length <= REDIRECT_SLURP) await readBody(response, REDIRECT_SLURP);
    response.destroy();
    if (requests >= MAX_REQUESTS) return { ready: false, detail: `stopped after ${MAX_REQUESTS} redirects (the last to ${next.pathname})` };
    referer = refererFor(current, next);
    current = next;
  }
}

/** The answer that ends the check: its body read (up to 10 KiB) within the timeout, then its status judged. */
async function answer(response: http.IncomingMessage, status: number, redirect: string, check: Check): Promise<ProbeResult> {
  if (status < 200) {
    response.destroy();
    return { ready: false, detail: String(status) };
  }
  const broken = await readBody(response, MAX_BODY);
  if (broken) return { ready: false, detail: `${status}, body not finished ${check.signal.aborted ? `within ${check.timeoutMs}ms` : `(${describe(broken)})`}` };
  if (status >= 400) return { ready: false, detail: String(status) };
  if (status < 300) return { ready: true, detail: String(status) };
  return {
    ready: true,
    detail: `${status}${redirect}`,
    warning: `the app answered ${status}${redirect || ' (a redirect not followed)'}; counted as ready with a warning, as the kubelet does`,
  };
}

/** Go sets Referer to the previous URL without its user info, unless that would send an https URL over http. */
function refererFor(previous: URL, next: URL): string | undefined {
  if (previous.protocol === 'https:' && next.protocol === 'http:') return undefined;
  const referer = new URL(previous);
  referer.username = '';
  referer.password = '';
  return referer.href;
}

/** What a failed exchange saw, in a word or a few: "ECONNREFUSED", "response headers larger than 1 MiB". */
function describe(error: unknown): string {
  const { code, message } = error as { code?: string; message?: string };
  return code ?? message ?? String(error);
}
