import { CmdbRejectedError } from '../../errors.ts';
import type { HttpRequest } from '../http-client/http-types.ts';
import type { RequestTemplate } from './load-template.ts';
import { asText, resolvePath, resolveText, resolveTree, type Scope } from './placeholders.ts';

/**
 * One request of the template, placeholders resolved: the path appended to --cmdb-url with values percent-encoded,
 * headers as text (an object header JSON-encoded, ASCII only), the json body as a tree, form fields as text with
 * objects and arrays JSON-encoded (iTop's json_data).
 */
export function buildRequest(template: RequestTemplate, base: string, scope: Scope): HttpRequest {
  const headers = Object.fromEntries(Object.entries(template.headers).map(([name, value]) => [name, headerValue(template, name, value, scope)]));
  const path = resolvePath(template.path, scope);
  if ('unsafe' in path) {
    throw new CmdbRejectedError(`the template's ${template.step} path ${template.path} cannot be sent: ${path.unsafe}, which would change the path itself; key the path by values that are always set (\${id}, \${pod.uid})`);
  }
  return {
    method: template.method,
    url: `${base}${path.path}`,
    ...(Object.keys(headers).length > 0 ? { headers } : {}),
    ...(template.json === undefined ? {} : { body: resolveTree(template.json, scope) }),
    ...(template.form ? { form: Object.fromEntries(Object.entries(template.form).map(([name, value]) => [name, asText(resolveTree(value, scope))])) } : {}),
  };
}

function headerValue(template: RequestTemplate, name: string, value: unknown, scope: Scope): string {
  const text = typeof value === 'string' ? resolveText(value, scope) : asciiJson(resolveTree(value, scope));
  // A header cannot hold a line break (Node refuses it, and it would split the request): a value from the pod that
  // has one is a permanent problem of this pod, not an outage to retry.
  if (!/^[\t\x20-\x7e]*$/.test(text)) {
    throw new CmdbRejectedError(`the template's ${template.step} header ${name} would hold a control or non-ASCII character from a placeholder value; use it in the body instead, or in an object header (JSON-encoded)`);
  }
  return text;
}

/** JSON with every non-ASCII character escaped (\u00e9), so that it fits in a header whatever the values hold. */
function asciiJson(value: unknown): string {
  return JSON.stringify(value).replace(/[\u007f-\uffff]/g, (char) => `\\u${char.charCodeAt(0).toString(16).padStart(4, '0')}`);
}
