/**
 * Dotted paths into a CMDB's JSON answer, for `find.id` and `success.json`: `result`, `data.info.0.bk_inst_id`,
 * `objects.*.key`. A segment is an object key or an array index; `*` is the first entry of an object or array
 * (iTop keys its objects by "<class>::<id>", which a template cannot know in advance).
 */

/** Why a path is not usable, or undefined when it is. */
export function dottedPathProblem(path: string): string | undefined {
  if (path.split('.').some((segment) => segment === '')) return `${JSON.stringify(path)} is not a dotted path like data.info.0.id (no empty segments)`;
  return undefined;
}

/** The value at the path, or undefined when any step of it is missing. */
export function valueAt(document: unknown, path: string): unknown {
  let node = document;
  for (const segment of path.split('.')) {
    if (node === null || typeof node !== 'object') return undefined;
    if (segment === '*') {
      node = Array.isArray(node) ? node[0] : Object.values(node)[0];
    } else if (Array.isArray(node)) {
      node = /^\d+$/.test(segment) ? node[Number(segment)] : undefined;
    } else {
      node = Object.hasOwn(node, segment) ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return node;
}
