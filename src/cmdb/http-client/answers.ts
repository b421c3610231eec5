import type { HttpResponse } from './http-types.ts';

/** "201 Created": the status line of an answer, for messages and the summary. */
export function statusLine(response: HttpResponse): string {
  return `${response.status} ${response.statusText}`.trim();
}

/** A body parsed as JSON, or undefined when it is not JSON (an HTML error page, an empty 204). */
export function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** A short, single-line excerpt of a CMDB error body for messages. */
export function excerpt(body: string, max = 200): string {
  const line = body.replace(/\s+/g, ' ').trim();
  return line.length > max ? `${line.slice(0, max)}…` : line;
}
