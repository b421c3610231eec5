import type { Request } from 'got';

const KiB = 1024;

/**
 * The most of an answer's body that is read (after decompression): what the backends parse (one record, a look-up
 * of one or a few) is far smaller; of a failure only an excerpt is shown. A CMDB (or whatever answers in its place)
 * sending 50 MB, or a body that never ends, costs at most this much memory and no more time. A page of a list holds
 * up to 500 records: a pod with a Helm chart's labels and an Istio sidecar's annotations makes a record of about
 * 1.5 KiB, and annotations such as kubectl's last-applied-configuration or a CNI's network status make it several
 * KiB, so 500 can pass 1 MiB; `page` allows 32 KiB a record on average. Kubernetes allows a pod 256 KiB of
 * annotations (apimachinery objectmeta.go, TotalAnnotationSizeLimitB), so no bound fits every page: one over it is
 * refused with a message saying so.
 */
export const ANSWER_LIMITS = { success: 1024 * KiB, failure: 64 * KiB, page: 16 * 1024 * KiB } as const;

export interface Answer {
  status: number;
  statusText: string;
  retryAfter: string | undefined;
  /** The body as UTF-8, at most the limit of its status. */
  body: string;
  /** Whether there was more than the limit (the rest was not read). */
  truncated: boolean;
}

/**
 * Sends a request of got's stream API and reads its answer: the status line, then the body up to the limit for its
 * status (a 2xx: `successLimit`). Reading stops there and the connection is closed (leaving the loop destroys the
 * stream).
 */
export async function readAnswer(stream: Request, hasBody: boolean, successLimit: number = ANSWER_LIMITS.success): Promise<Answer> {
  // With `json` or `form` got writes the body and ends the request itself; otherwise it waits for end().
  if (!hasBody) stream.end();
  const response = await new Promise<{ statusCode: number; statusMessage?: string | undefined; headers: Record<string, string | string[] | undefined> }>((resolve, reject) => {
    stream.once('response', resolve);
    stream.once('error', reject);
  });
  const status = response.statusCode;
  const success = status >= 200 && status < 300;
  const limit = success ? successLimit : ANSWER_LIMITS.failure;
  const chunks: Buffer[] = [];
  let size = 0;
  // A success that announces more than the limit is refused unread.
  if (success && Number(response.headers['content-length']) > limit) {
    stream.destroy();
    size = limit + 1;
  } else {
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      chunks.push(chunk);
      size += chunk.length;
      if (size > limit) break;
    }
  }
  const retryAfter = response.headers['retry-after'];
  return {
    status,
    statusText: response.statusMessage ?? '',
    retryAfter: typeof retryAfter === 'string' ? retryAfter : undefined,
    body: Buffer.concat(chunks).toString('utf8', 0, Math.min(size, limit)),
    truncated: size > limit,
  };
}
