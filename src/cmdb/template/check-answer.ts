import type { HttpRequest, HttpResponse } from '../http-client/http-types.ts';
import { parseJson } from '../http-client/answers.ts';
import { answerError } from '../http-client/failures.ts';
import { valueAt } from './dotted-path.ts';
import type { RequestTemplate } from './load-template.ts';

export type Verdict = { kind: 'ok'; document: unknown } | { kind: 'gone' };

/**
 * Judges an answer by the template's rules: a `gone` status means "nothing there"; any other status outside
 * `success.status` (default 2xx) is an error, transient or not by its status (src/cmdb/http-client/failures.ts); then every
 * `success.json` path must hold its value, for APIs that answer 200 on failure (Blueking result: false, iTop code != 0).
 */
export function checkAnswer(template: RequestTemplate, request: HttpRequest, response: HttpResponse, mask: (text: string) => string): Verdict {
  if (template.gone.includes(response.status)) return { kind: 'gone' };
  const { status, json } = template.success;
  const ok = status ? status.includes(response.status) : response.status >= 200 && response.status < 300;
  if (!ok) throw answerError(request, response, mask, status ? `${template.step} expects ${status.join(', ')}` : undefined);
  if (json.length === 0 && template.step !== 'find' && template.step !== 'list') return { kind: 'ok', document: undefined };
  const document = parseJson(response.body);
  if (document === undefined) throw answerError(request, response, mask, `${template.step}: the answer is not JSON, and the template reads it`);
  for (const [path, expected] of json) {
    const actual = valueAt(document, path);
    if (actual !== expected) {
      throw answerError(request, response, mask, `${template.step}: ${path} is ${JSON.stringify(actual) ?? 'missing'}, the template expects ${JSON.stringify(expected)}`);
    }
  }
  return { kind: 'ok', document };
}

/** The id the look-up found at `find.id`, or undefined when it found nothing (the path is missing or null). */
export function foundId(template: RequestTemplate & { id: string }, document: unknown, request: HttpRequest, response: HttpResponse, mask: (text: string) => string): string | number | undefined {
  const id = valueAt(document, template.id);
  if (id === undefined || id === null) return undefined;
  if ((typeof id === 'string' && id !== '') || (typeof id === 'number' && Number.isFinite(id))) return id;
  throw answerError(request, response, mask, `find: ${template.id} holds ${JSON.stringify(id)}, which is not an id`);
}

