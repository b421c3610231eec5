/**
 * What ServiceNow's answers mean. Error bodies are {"error":{"message","detail"},"status":"failure"}; Identification
 * and Reconciliation answers HTTP 200 even when its item failed, so the item's errors decide (ServiceNow/ServiceNowDocs
 * markdown/api-reference/rest-apis/c_IdentifyReconcileAPI.md, "Response body parameters").
 */
import { CmdbUnavailableError, type CmdbRejectedError } from '../../errors.ts';
import type { WriteResult } from '../backend.ts';
import { excerpt, parseJson, statusLine } from '../http-client/answers.ts';
import { answerError } from '../http-client/failures.ts';
import type { HttpRequest, HttpResponse } from '../http-client/http-types.ts';

type Mask = (text: string) => string;

/** "message: detail" of a ServiceNow error body, if the body is one. */
export function serviceNowError(body: string): string | undefined {
  const error = objectOf(parseJson(body))?.error;
  if (typeof error === 'string') return error.trim() || undefined;
  const fields = objectOf(error);
  if (!fields) return undefined;
  const parts = [fields.message, fields.detail].filter((part): part is string => typeof part === 'string' && part.trim() !== '');
  return parts.length > 0 ? parts.join(': ') : undefined;
}

// 401 and 403 will not change by retrying: they need a person, so the message says which setting to look at.
const STATUS_HINTS: Readonly<Record<number, string>> = {
  401: 'check --cmdb-user and --cmdb-password-file, or that the token of --cmdb-token-file is valid and not expired',
  403: 'the ServiceNow user lacks a role or ACL: Identification and Reconciliation needs itil or asset, and --deregister-action delete needs read and delete on cmdb_ci_kubernetes_pod',
};

/**
 * The error for a non-2xx answer: ServiceNow's own message and detail, a hint for 401/403, and the usual split into
 * transient (408, 425, 429, 5xx: retried by src/retry) and permanent.
 */
export function failedAnswer(request: HttpRequest, response: HttpResponse, mask: Mask): CmdbRejectedError | CmdbUnavailableError {
  const said = serviceNowError(response.body);
  const why = [said && `ServiceNow: ${excerpt(said, 300)}`, STATUS_HINTS[response.status]].filter(Boolean).join('; ');
  // ServiceNow's words replace the raw body in the message, so it does not say everything twice.
  return answerError(request, said ? { ...response, body: '' } : response, mask, why || undefined);
}

// Operations of a committed item (c_IdentifyReconcileAPI.md, result.items.operation). DELETE and the enhanced
// endpoint's INSERT_AS_PARTIAL / INSERT_AS_INCOMPLETE mean the pod's CI was not written as asked.
const COMMITTED = new Set(['INSERT', 'UPDATE', 'NO_CHANGE', 'UPDATE_WITH_UPGRADE', 'UPDATE_WITH_DOWNGRADE', 'UPDATE_WITH_SWITCH']);

// LOCK_TIMEOUT ("Failed to acquire synchronization lock"): another payload for the same CI held IRE's lock, e.g.
// Discovery, or an overlapping delivery of this hook. The next attempt can succeed. Every other IRE error (missing or
// dependent identification rule, unknown data source, data source rule, duplicates, missing attributes) needs a
// person to change ServiceNow's configuration: retrying until the deadline would only delay the report.
const TRANSIENT_ITEM_ERRORS = new Set(['LOCK_TIMEOUT']);

const ITEM_ERROR_HINTS: Readonly<Record<string, string>> = {
  INVALID_INPUT_DATA: 'is --servicenow-data-source one of the choices of the discovery_source field of cmdb_ci?',
  IDENTIFICATION_RULE_MISSING: 'create an identification rule for cmdb_ci_kubernetes_pod with criterion attribute k8s_uid',
  MISSING_MATCHING_ATTRIBUTES: 'the identification rule of cmdb_ci_kubernetes_pod wants attributes this hook does not send; identify by k8s_uid',
  MISSING_DEPENDENCY: 'the identification rule of cmdb_ci_kubernetes_pod is dependent; give it an independent rule on k8s_uid',
  INSERT_NOT_ALLOWED_FOR_SOURCE: 'an IRE data source rule keeps --servicenow-data-source from creating cmdb_ci_kubernetes_pod CIs',
  MULTIPLE_DUPLICATE_RECORDS: 'several CIs hold this k8s_uid; remove the duplicates',
};

/**
 * Reads a 2xx answer of POST /api/now/identifyreconcile: success only when the one item we sent was committed with no
 * errors. A top-level error, a missing item, item errors or errorCount > 0 are failures.
 */
export function readReconcileAnswer(request: HttpRequest, response: HttpResponse, mask: Mask): WriteResult {
  const status = statusLine(response);
  const fail = (why: string, transient = false) => {
    const error = answerError(request, { ...response, body: '' }, mask, why);
    return transient ? new CmdbUnavailableError(error.message, { status: response.status }) : error;
  };
  const body = objectOf(parseJson(response.body));
  if (!body) throw fail(`not a JSON answer of Identification and Reconciliation: ${excerpt(response.body) || 'empty body'}`);
  const topError = serviceNowError(response.body);
  if (topError) throw fail(`ServiceNow: ${excerpt(topError, 300)}`);
  const result = Array.isArray(body.result) ? objectOf(body.result[0]) : objectOf(body.result);
  const item = Array.isArray(result?.items) ? objectOf(result.items[0]) : undefined;
  if (!item) throw fail('the answer holds no result for the item sent (result.items is empty)');

  const errors = (Array.isArray(item.errors) ? item.errors : []).map(objectOf).filter((entry) => entry !== undefined);
  const errorCount = typeof item.errorCount === 'number' ? item.errorCount : errors.length;
  if (errors.length > 0 || errorCount > 0) {
    const types = errors.map((entry) => textOf(entry.error, 'ERROR'));
    const text = errors.map((entry) => `${textOf(entry.error, 'ERROR')}: ${textOf(entry.message, '')}`.trim()).join('; ') || `errorCount ${errorCount}`;
    const hints = [...new Set(types.map((type) => ITEM_ERROR_HINTS[type]).filter(Boolean))].join('; ');
    const transient = types.length > 0 && types.every((type) => TRANSIENT_ITEM_ERRORS.has(type));
    throw fail(`IRE item error: ${excerpt(text, 400)}${hints ? `; ${hints}` : ''}`, transient);
  }
  const operation = typeof item.operation === 'string' ? item.operation : '';
  const sysId = typeof item.sysId === 'string' ? item.sysId : '';
  if (!COMMITTED.has(operation) || !sysId || sysId === 'Unknown') {
    throw fail(`IRE did not commit the CI: operation ${JSON.stringify(operation)}, sysId ${JSON.stringify(sysId)}`);
  }
  const warnings = (Array.isArray(item.warnings) ? item.warnings : []).map((entry) => textOf(objectOf(entry)?.error, 'WARNING'));
  return { detail: `${status}, IRE ${operation} ${sysId}${warnings.length > 0 ? `, warnings: ${[...new Set(warnings)].join(', ')}` : ''}` };
}

function textOf(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}


export function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}
