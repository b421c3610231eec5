import { ConfigError } from '../../errors.ts';
import { FILE_KINDS, readSettingFile } from '../../settings/setting-files.ts';
import { settingName } from '../../settings/option.ts';
import type { HttpRequest } from '../http-client/http-types.ts';
import { dottedPathProblem } from './dotted-path.ts';
import { LIST_KEYS, listFieldsOf, type ListFields } from './list-step.ts';
import { LIST_PLACEHOLDERS, placeholdersIn } from './placeholders.ts';
import { Problem } from './template-problem.ts';

/**
 * The request template of --cmdb-kind template (a JSON file, usually a mounted ConfigMap key), read and checked once
 * at start-up: every mistake is a ConfigError naming the file and the JSON path of the problem, before any request.
 *
 *   { "description"?, "headers"?, "success"?,       shared by every request (a request's own replace them)
 *     "find"?:  request + "id",                      look-up; "id" is the dotted path to the id in its answer
 *     "create": request,                             register when find found nothing (without find: always)
 *     "update"?: request,                            register when find found the record; needs find
 *     "delete": request, "retire"?: request,         deregister; with find, only sent when it found the record
 *     "list"?: request + list-step.ts's keys }       one page of a cluster's records, for the controller
 *
 *   request = { "method", "path", "headers"?, "json"? | "form"?, "success"?: { "status"?, "json"? }, "gone"? }
 */

export type Step = 'find' | 'create' | 'update' | 'delete' | 'retire' | 'list';
export type Primitive = string | number | boolean | null;

export interface Success {
  /** Statuses that count as success; undefined means any 2xx. */
  status: readonly number[] | undefined;
  /** Dotted paths into the JSON answer and the value each must hold, e.g. result: true or code: 0. */
  json: ReadonlyArray<readonly [string, Primitive]>;
}

export interface RequestTemplate {
  step: Step;
  method: HttpRequest['method'];
  /** Appended to --cmdb-url; may carry a query. */
  path: string;
  /** Lower-case names; the shared headers merged in. A value is a string, or a JSON object sent JSON-encoded. */
  headers: Readonly<Record<string, unknown>>;
  json?: unknown;
  /** Fields whose value is an object or array are sent JSON-encoded (iTop's json_data). */
  form?: Readonly<Record<string, unknown>>;
  success: Success;
  /** find: statuses meaning "nothing found"; delete, retire: "already gone". */
  gone: readonly number[];
}

export interface Template {
  file: string;
  find?: RequestTemplate & { id: string };
  create: RequestTemplate;
  update?: RequestTemplate;
  delete: RequestTemplate;
  retire?: RequestTemplate;
  list?: RequestTemplate & ListFields;
  /** Every placeholder name the file uses, e.g. to know whether it needs the token. */
  placeholders: ReadonlySet<string>;
}

const METHODS: readonly string[] = ['GET', 'PUT', 'POST', 'PATCH', 'DELETE'];
const STEPS: readonly Step[] = ['find', 'create', 'update', 'delete', 'retire', 'list'];
const TOP_KEYS = ['description', 'headers', 'success', ...STEPS];
const REQUEST_KEYS = ['method', 'path', 'headers', 'json', 'form', 'success', 'gone'];
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
/** Set by the client from json or form; a template that sets them would send a body its header misdescribes. */
const OWN_HEADERS = new Set(['content-type', 'content-length', 'host', 'transfer-encoding']);

type Json = Record<string, unknown>;

export function loadTemplate(file: string): Template {
  const text = readSettingFile('template-file', file, FILE_KINDS.template);
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (error) {
    throw new ConfigError(`${settingName('template-file')} ${file} is not valid JSON (${(error as Error).message}); fix the template`);
  }
  try {
    return parseTemplate(document, file);
  } catch (error) {
    if (!(error instanceof Problem)) throw error;
    throw new ConfigError(`${settingName('template-file')} ${file}: ${error.at}: ${error.message}`);
  }
}

/** Checks a parsed template; throws a Problem at the first mistake. */
function parseTemplate(document: unknown, file: string): Template {
  const top = object(document, '$');
  onlyKeys(top, TOP_KEYS, '$');
  if (top.description !== undefined && typeof top.description !== 'string') throw new Problem('$.description', 'must be a string');
  const shared = { headers: headersOf(top.headers, '$.headers'), success: successOf(top.success, '$.success') ?? { status: undefined, json: [] } };
  const placeholders = new Set<string>();
  const scan = (node: unknown, at: string, step: Step) => scanPlaceholders(node, at, step, placeholders, top.find !== undefined);
  scan(shared.headers, '$.headers', 'find');
  // The shared headers go with the list request too, which knows no record.
  if (top.list !== undefined) scan(shared.headers, '$.headers', 'list');

  const steps: Partial<Record<Step, RequestTemplate>> = {};
  for (const step of STEPS) {
    if (top[step] === undefined) continue;
    const request = requestOf(top[step], step, shared);
    const at = `$.${step}`;
    scan(request.path, `${at}.path`, step);
    scan(object(top[step], at).headers ?? {}, `${at}.headers`, step);
    scan(request.json, `${at}.json`, step);
    scan(request.form, `${at}.form`, step);
    steps[step] = request;
  }
  if (!steps.create) throw new Problem('$.create', 'is required: the request that registers the record (without find it must be idempotent, like a PUT)');
  if (!steps.delete) throw new Problem('$.delete', 'is required: the request that removes the record on deregister');
  if (steps.update && !steps.find) throw new Problem('$.update', 'needs $.find: update is sent when the look-up finds the record');
  if (steps.find && !steps.update) throw new Problem('$.update', 'is required with $.find: the request that rewrites the record the look-up found');

  let find: Template['find'];
  if (steps.find) {
    const id = (top.find as Json).id;
    if (typeof id !== 'string') throw new Problem('$.find.id', 'is required: the dotted path to the id in the look-up\'s answer, e.g. data.info.0.bk_inst_id');
    const problem = dottedPathProblem(id);
    if (problem) throw new Problem('$.find.id', problem);
    find = { ...steps.find, id };
  }
  const list = steps.list ? { ...steps.list, ...listFieldsOf(top.list as Json) } : undefined;
  return {
    file,
    create: steps.create,
    delete: steps.delete,
    placeholders,
    ...(find ? { find } : {}),
    ...(steps.update ? { update: steps.update } : {}),
    ...(steps.retire ? { retire: steps.retire } : {}),
    ...(list ? { list } : {}),
  };
}

function requestOf(node: unknown, step: Step, shared: { headers: Json; success: Success }): RequestTemplate {
  const at = `$.${step}`;
  const request = object(node, at);
  onlyKeys(request, step === 'find' ? [...REQUEST_KEYS, 'id'] : step === 'list' ? [...REQUEST_KEYS.filter((key) => key !== 'gone'), ...LIST_KEYS] : REQUEST_KEYS, at);
  const method = request.method;
  if (typeof method !== 'string' || !METHODS.includes(method)) throw new Problem(`${at}.method`, `must be one of ${METHODS.join(', ')}, not ${JSON.stringify(method)}`);
  const path = request.path;
  if (typeof path !== 'string' || !path.startsWith('/')) throw new Problem(`${at}.path`, 'must be a string starting with "/", appended to --cmdb-url (e.g. "/api/v3/create/instance/object/k8s_pod")');
  if (!/^[\x21-\x7e]+$/.test(path) || path.includes('#')) throw new Problem(`${at}.path`, 'must be printable ASCII without spaces or "#" (placeholder values are percent-encoded for you)');
  if (request.json !== undefined && request.form !== undefined) throw new Problem(at, 'has both json and form; a request has one body');
  if (method === 'GET' && (request.json !== undefined || request.form !== undefined)) throw new Problem(at, 'is a GET with a body; use the query in path');
  const form = request.form === undefined ? undefined : object(request.form, `${at}.form`);
  if ((step === 'create' || step === 'update') && request.gone !== undefined) throw new Problem(`${at}.gone`, 'only applies to find, delete and retire');
  return {
    step,
    method: method as HttpRequest['method'],
    path,
    headers: { ...shared.headers, ...headersOf(request.headers, `${at}.headers`) },
    ...(request.json === undefined ? {} : { json: request.json }),
    ...(form ? { form } : {}),
    success: successOf(request.success, `${at}.success`) ?? shared.success,
    gone: statuses(request.gone, `${at}.gone`) ?? [],
  };
}

function headersOf(node: unknown, at: string): Json {
  if (node === undefined) return {};
  const entries = Object.entries(object(node, at)).map(([name, value]): [string, unknown] => {
    if (!HEADER_NAME.test(name)) throw new Problem(`${at}.${name}`, 'is not a header name');
    if (OWN_HEADERS.has(name.toLowerCase())) throw new Problem(`${at}.${name}`, 'is set by cmdb-hook from the json or form body; leave it out');
    if (typeof value === 'string') {
      if (!/^[\t\x20-\x7e]*$/.test(value)) throw new Problem(`${at}.${name}`, 'must be printable ASCII');
    } else if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      throw new Problem(`${at}.${name}`, 'must be a string, or an object that is sent JSON-encoded');
    }
    return [name.toLowerCase(), value];
  });
  return Object.fromEntries(entries);
}

function successOf(node: unknown, at: string): Success | undefined {
  if (node === undefined) return undefined;
  const success = object(node, at);
  onlyKeys(success, ['status', 'json'], at);
  const json = Object.entries(success.json === undefined ? {} : object(success.json, `${at}.json`)).map(([path, value]): [string, Primitive] => {
    const problem = dottedPathProblem(path);
    if (problem) throw new Problem(`${at}.json`, problem);
    if (value !== null && typeof value === 'object') throw new Problem(`${at}.json.${path}`, 'must be a string, number, boolean or null');
    return [path, value as Primitive];
  });
  return { status: statuses(success.status, `${at}.status`), json };
}

function statuses(node: unknown, at: string): number[] | undefined {
  if (node === undefined) return undefined;
  if (!Array.isArray(node) || node.length === 0 || !node.every((status) => Number.isInteger(status) && status >= 100 && status <= 599)) {
    throw new Problem(at, 'must be a non-empty list of HTTP status codes, e.g. [200, 201]');
  }
  return node as number[];
}

/** Checks every placeholder of a part of the template; `${found.id}` only where a look-up has run. */
function scanPlaceholders(node: unknown, at: string, step: Step, used: Set<string>, hasFind: boolean): void {
  if (typeof node === 'string') {
    let names: string[];
    try {
      names = placeholdersIn(node);
    } catch (error) {
      throw new Problem(at, (error as Error).message);
    }
    for (const name of names) {
      if (step === 'list' ? !LIST_PLACEHOLDERS.includes(name) : name === 'after' || name === 'limit') {
        throw new Problem(at, step === 'list' ? `\${${name}} is not known in list, which lists a cluster; use ${LIST_PLACEHOLDERS.map((known) => `\${${known}}`).join(', ')}` : `\${${name}} is only known in list`);
      }
      if (name === 'found.id' && (!hasFind || step === 'find' || step === 'create')) {
        throw new Problem(at, '${found.id} is only known in update, delete and retire, after $.find has found the record');
      }
      used.add(name);
    }
  } else if (Array.isArray(node)) {
    node.forEach((item, index) => scanPlaceholders(item, `${at}[${index}]`, step, used, hasFind));
  } else if (node !== null && typeof node === 'object') {
    for (const [key, value] of Object.entries(node)) {
      if (key.includes('${')) throw new Problem(`${at}.${key}`, 'placeholders are substituted in values only, not in keys');
      scanPlaceholders(value, `${at}.${key}`, step, used, hasFind);
    }
  }
}

function object(node: unknown, at: string): Json {
  if (node === null || typeof node !== 'object' || Array.isArray(node)) throw new Problem(at, `must be a JSON object, not ${node === null ? 'null' : Array.isArray(node) ? 'an array' : typeof node}`);
  return node as Json;
}

function onlyKeys(node: Json, known: readonly string[], at: string): void {
  const unknown = Object.keys(node).find((key) => !known.includes(key));
  if (unknown !== undefined) throw new Problem(`${at}.${unknown}`, `is not a known key here; use ${known.join(', ')}`);
}
