import { CmdbRejectedError, ConfigError } from '../../errors.ts';
import type { CmdbRecord } from '../../pod/record.ts';
import type { TimeBudget } from '../../retry/time-budget.ts';
import { settingName } from '../../settings/option.ts';
import type { BackendSpec, BackendUse, CmdbBackend, Operation, RecordPage, WriteResult } from '../backend.ts';
import { baseUrlOf, type CmdbConnection } from '../connection.ts';
import { statusLine } from '../http-client/answers.ts';
import { createHttpClient } from '../http-client/client.ts';
import { readToken } from '../http-client/credentials.ts';
import { answerError } from '../http-client/failures.ts';
import { ANSWER_LIMITS } from '../http-client/read-answer.ts';
import { buildRequest } from './build-request.ts';
import { checkAnswer, foundId } from './check-answer.ts';
import { loadTemplate, type RequestTemplate, type Template } from './load-template.ts';
import { Pending, type Scope } from './placeholders.ts';
import { readTemplatePage } from './read-list.ts';

// The hooks and the controller write the same records through the same backends.
const HOOKS = ['register', 'deregister', 'sidecar', 'controller', 'consume'];

/** --cmdb-kind template: its one setting is the request template. */
export const templateBackend: BackendSpec = {
  kind: 'template',
  options: [{ flag: 'template-file', type: 'string', commands: HOOKS, describe: 'template: JSON file describing the register and deregister requests (a mounted ConfigMap).' }],
  deregisterAction: 'delete',
  configure(read, connection, use) {
    const file = read.text('template-file');
    if (!file) {
      throw new ConfigError(`${settingName('template-file')} is required with --cmdb-kind template: point it at the request template (a mounted ConfigMap key)`);
    }
    return () => createTemplateBackend(file, connection, use);
  },
};

/**
 * --cmdb-kind template: the requests come from --template-file (load-template.ts describes it).
 * With a `find` step, register looks the record up and sends `update` when found, else `create`; deregister sends
 * `delete` (or `retire`) only when found, else the record is already gone. Without `find`, each operation is one
 * request, which must then be idempotent (Consul's PUT). A create refused because an overlapping delivery created the
 * record meanwhile (the CMDB's uniqueness rule) is followed by one more look-up and an update. The token goes only
 * where the template puts `${token}`.
 */
function createTemplateBackend(file: string, connection: CmdbConnection, use: BackendUse): CmdbBackend {
  const template = loadTemplate(file);
  const token = readToken(connection.tokenFile);
  const where = `${settingName('template-file')} ${template.file}`;
  if (template.placeholders.has('token') && token === undefined) {
    throw new ConfigError(`${where} uses \${token}, but ${settingName('cmdb-token-file')} is not set; mount the token and point the flag at it`);
  }
  if (use.operations.includes('retire') && !template.retire) {
    throw new ConfigError(`${settingName('deregister-action')} is retire, but ${where} has no "retire" request; add one or deregister with delete`);
  }
  const client = createHttpClient({ secrets: [token ?? ''], tls: connection.tls });
  // Without --cmdb-url (only allowed with --dry-run) the plan shows where the path would go.
  const base = baseUrlOf(connection.url);
  const scopeOf = (record: CmdbRecord, found?: Scope['found']): Scope => ({ record, token, found });

  /** One request of the template, judged by its rules. */
  const send = async (step: RequestTemplate, scope: Scope, attempt: TimeBudget) => {
    const request = buildRequest(step, base, scope);
    const response = await client.send(request, attempt);
    return { request, response, verdict: checkAnswer(step, request, response, client.mask), detail: statusLine(response) };
  };

  /** The look-up: the id of the record, or undefined with what the CMDB said when there is none. */
  const lookUp = async (find: NonNullable<Template['find']>, record: CmdbRecord, attempt: TimeBudget) => {
    const { request, response, verdict, detail } = await send(find, scopeOf(record), attempt);
    const id = verdict.kind === 'gone' ? undefined : foundId(find, verdict.document, request, response, client.mask);
    return { id, detail };
  };

  /** deregister's write (delete or retire): only to a record the look-up found; gone statuses mean success too. */
  const removeWith = async (step: RequestTemplate, record: CmdbRecord, attempt: TimeBudget): Promise<WriteResult> => {
    let found: string | number | undefined;
    if (template.find) {
      const look = await lookUp(template.find, record, attempt);
      if (look.id === undefined) return { detail: `find: none, ${look.detail}`, alreadyGone: true };
      found = look.id;
    }
    const { verdict, detail } = await send(step, scopeOf(record, found), attempt);
    const prefix = found === undefined ? '' : `${step.step} ${found}: `;
    return verdict.kind === 'gone' ? { detail: `${prefix}${detail}`, alreadyGone: true } : { detail: `${prefix}${detail}` };
  };

  /** One page of the `list` step: one request, `${after}` empty on the first page. */
  const listStep = template.list;
  const list = listStep
    ? async (cluster: string, attempt: TimeBudget, after?: string): Promise<RecordPage> => {
        const scope: Scope = { token, page: { cluster, after: after ?? '', limit: listStep.limit } };
        const tooLarge = `more than a page of ${listStep.limit} records should take: check --cmdb-url and the list step`;
        const request = { ...buildRequest(listStep, base, scope), answerLimit: { bytes: ANSWER_LIMITS.page, tooLarge } };
        const response = await client.send(request, attempt);
        const verdict = checkAnswer(listStep, request, response, client.mask);
        const document = verdict.kind === 'ok' ? verdict.document : undefined;
        return readTemplatePage(listStep, document, { cluster, after }, (why) => answerError(request, response, client.mask, why));
      }
    : undefined;

  return {
    // A template without a list step has no list: the controller says it needs one.
    ...(list ? { list } : {}),
    warmUp: () => client.warmUp(),
    async upsert(record, attempt) {
      const { find, update } = template;
      if (!find || !update) return { detail: (await send(template.create, scopeOf(record), attempt)).detail };
      const updateFound = async (id: string | number) => ({ detail: `update ${id}: ${(await send(update, scopeOf(record, id), attempt)).detail}` });
      const look = await lookUp(find, record, attempt);
      if (look.id !== undefined) return updateFound(look.id);
      try {
        return { detail: `create: ${(await send(template.create, scopeOf(record), attempt)).detail}` };
      } catch (error) {
        // Two deliveries of the same hook overlap (the kubelet delivers at least once): the other one created the
        // record between our look-up and our create, and the CMDB's uniqueness rule refused ours. Look again.
        if (!(error instanceof CmdbRejectedError)) throw error;
        const again = await lookUp(find, record, attempt);
        if (again.id === undefined) throw error;
        return updateFound(again.id);
      }
    },
    remove: (record, attempt) => removeWith(template.delete, record, attempt),
    retire(record, attempt) {
      if (!template.retire) throw new Error('retire without a retire request: createTemplateBackend should have refused it');
      return removeWith(template.retire, record, attempt);
    },
    plan: (operation, record) => planOf(operation, record),
  };

  /** --dry-run: every request the operation may send, secrets masked; the id a look-up would find is <found.id>. */
  function planOf(operation: Operation, record: CmdbRecord): unknown {
    const describe = (step: RequestTemplate, found?: Pending) => client.describe(buildRequest(step, base, scopeOf(record, found)));
    const write = operation === 'upsert' ? (template.find ? template.update : template.create) : operation === 'remove' ? template.delete : template.retire;
    if (!write) throw new Error(`no request for ${operation}: createTemplateBackend should have refused the template`);
    if (!template.find) return describe(write);
    const pending = new Pending('<found.id>');
    if (operation === 'upsert') return { find: describe(template.find), ifFound: describe(write, pending), ifNotFound: describe(template.create) };
    return { find: describe(template.find), ifFound: describe(write, pending), ifNotFound: 'nothing to send: the record is already gone' };
  }
}
