// The rows of config.test.ts's message table (not a test file itself): each input, as yargs and the env would give
// it, and the one ConfigError line it must end in, naming the setting.
import type { Argv } from '../../src/settings/read-settings.ts';

export type Command = 'register' | 'deregister';

export interface MessageRow {
  command?: Command;
  argv: Argv;
  env?: NodeJS.ProcessEnv;
  message: RegExp;
  /** Text of the input that must not appear in the message. */
  secrets?: string[];
}

const BASE: Argv = { 'cmdb-url': 'http://127.0.0.1:9/records', cluster: 'c', container: 'app' };

/** The base flags with some added, changed, or (as undefined) left out. */
export function flags(changes: Readonly<Record<string, unknown>> = {}): Argv {
  return Object.fromEntries(Object.entries({ ...BASE, ...changes }).filter(([, value]) => value !== undefined));
}

/** A regex that matches `text` literally. */
export const literal = (text: string): string => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

const UNITS = ' \\(units: h, m, s, ms, us, ns\\)$';
const LIKE = `; write it like 30s, 1m30s or 500ms${UNITS}`;
const CMDB_URL = '^--cmdb-url \\(CMDB_HOOK_CMDB_URL\\)';
const PLAIN_BASE = '; give the plain base URL that record ids are appended to, e\\.g\\. https://cmdb\\.example\\.com/api/v1/instances$';
const TCP = (raw: string) => new RegExp(`^--ready-tcp \\(CMDB_HOOK_READY_TCP\\) ${literal(JSON.stringify(raw))} is not a port or host:port; write it like 8080, 127\\.0\\.0\\.1:8080 or \\[::1\\]:8080$`);
const FIELD = (entry: string) => new RegExp(`^--field \\(CMDB_HOOK_FIELD\\) ${literal(JSON.stringify(entry))} is not key=value with a key of letters, digits, '_', '\\.' or '-'$`);
const CONTAINER = (name: string) => new RegExp(`^--container \\(CMDB_HOOK_CONTAINER\\) ${literal(JSON.stringify(name))} is not a container name \\(lowercase letters, digits and '-', at most 63\\)$`);
const OTHER_KIND = (flag: string, owner: string, kind: string) =>
  new RegExp(`^--${flag} \\(CMDB_HOOK_${flag.toUpperCase().replaceAll('-', '_')}\\) is only used with --cmdb-kind ${owner}, and --cmdb-kind is ${kind}; remove it or change the kind$`);
const SERVICENOW = { 'cmdb-kind': 'servicenow', 'cmdb-url': 'https://acme.service-now.test', 'servicenow-data-source': 'k8s' };

export function configRows(): MessageRow[] {
  return [
    // src/settings/read-settings.ts
    { argv: flags({ cluster: ['a', 'b'] }), message: /^--cluster \(CMDB_HOOK_CLUSTER\) was given more than once \(\["a","b"\]\); give it once$/ },
    { argv: flags({ timeout: ['5s', '6s'] }), message: /^--timeout \(CMDB_HOOK_TIMEOUT\) was given more than once \(\["5s","6s"\]\); give it once$/ },
    { argv: flags({ cluster: '' }), message: /^--cluster \(CMDB_HOOK_CLUSTER\) was given without a value$/ },
    { argv: flags({ 'ready-url': '' }), message: /^--ready-url \(CMDB_HOOK_READY_URL\) was given without a value$/ },
    { argv: flags(), env: { CMDB_HOOK_DRY_RUN: 'sure' }, message: /^CMDB_HOOK_DRY_RUN must be true or false, not "sure"$/ },
    { command: 'deregister', argv: flags(), env: { CMDB_HOOK_STRICT: 'enabled' }, message: /^CMDB_HOOK_STRICT must be true or false, not "enabled"$/ },
    { argv: flags({ cluster: undefined }), message: /^--cluster \(CMDB_HOOK_CLUSTER\) is required: set it to the name this cluster has in the CMDB$/ },
    { argv: flags({ cluster: undefined }), env: { CMDB_HOOK_CLUSTER: '  ' }, message: /^--cluster \(CMDB_HOOK_CLUSTER\) is required: / },
    { command: 'deregister', argv: flags({ container: undefined }), message: /^--container \(CMDB_HOOK_CONTAINER\) is required: set it to this container's name as in the pod spec$/ },
    { argv: flags({ container: undefined }), env: { CMDB_HOOK_CONTAINER: '' }, message: /^--container \(CMDB_HOOK_CONTAINER\) is required: / },
    // Durations (read-settings.ts, duration.ts)
    { argv: flags({ timeout: '300' }), message: new RegExp(`^--timeout \\(CMDB_HOOK_TIMEOUT\\) "300" has a number without a unit; write it like 300s or 300ms${UNITS}`) },
    { argv: flags({ 'request-timeout': '1.5' }), message: new RegExp(`^--request-timeout \\(CMDB_HOOK_REQUEST_TIMEOUT\\) "1\\.5" has a number without a unit; write it like 1\\.5s or 1\\.5ms${UNITS}`) },
    { argv: flags({ timeout: '1d' }), message: new RegExp(`^--timeout \\(CMDB_HOOK_TIMEOUT\\) "1d" has an unknown unit "d"${LIKE}`) },
    { argv: flags(), env: { CMDB_HOOK_READY_TIMEOUT: '1x' }, message: new RegExp(`^--ready-timeout \\(CMDB_HOOK_READY_TIMEOUT\\) "1x" has an unknown unit "x"${LIKE}`) },
    { argv: flags({ timeout: 'soon' }), message: new RegExp(`^--timeout \\(CMDB_HOOK_TIMEOUT\\) "soon" is not a duration${LIKE}`) },
    { argv: flags(), env: { CMDB_HOOK_TIMEOUT: '' }, message: new RegExp(`^--timeout \\(CMDB_HOOK_TIMEOUT\\) "" is not a duration${LIKE}`) },
    { argv: flags({ timeout: '-5s' }), message: /^--timeout \(CMDB_HOOK_TIMEOUT\) "-5s" is negative; give a positive duration like 30s$/ },
    { argv: flags({ timeout: '-9999999999h' }), message: /^--timeout \(CMDB_HOOK_TIMEOUT\) "-9999999999h" is negative; / },
    { command: 'deregister', argv: flags({ drain: '-1s' }), message: /^--drain \(CMDB_HOOK_DRAIN\) "-1s" is negative; give 0s or a positive duration like 30s$/ },
    { argv: flags({ timeout: '25h' }), message: /^--timeout \(CMDB_HOOK_TIMEOUT\) "25h" is longer than 24h; give a shorter duration$/ },
    { argv: flags({ timeout: '9999999999h' }), message: /^--timeout \(CMDB_HOOK_TIMEOUT\) "9999999999h" is longer than 24h; / },
    { argv: flags({ timeout: '0s' }), message: /^--timeout \(CMDB_HOOK_TIMEOUT\) "0s" is zero; give a positive duration like 30s$/ },
    { command: 'deregister', argv: flags({ timeout: '0' }), message: /^--timeout \(CMDB_HOOK_TIMEOUT\) "0" is zero; / },
    { argv: flags({ 'ready-interval': '0ms' }), message: /^--ready-interval \(CMDB_HOOK_READY_INTERVAL\) "0ms" is zero; / },
    { argv: flags(), env: { CMDB_HOOK_REQUEST_TIMEOUT: '0s' }, message: /^--request-timeout \(CMDB_HOOK_REQUEST_TIMEOUT\) "0s" is zero; / },
    // src/config/hook-config.ts
    { command: 'deregister', argv: flags({ drain: '10s' }), message: /^--drain \(CMDB_HOOK_DRAIN\) must be shorter than --timeout \(CMDB_HOOK_TIMEOUT\): the drain runs inside the one deadline$/ },
    { command: 'deregister', argv: flags({ drain: '5s', timeout: '3s' }), message: /^--drain \(CMDB_HOOK_DRAIN\) must be shorter than --timeout \(CMDB_HOOK_TIMEOUT\)/ },
    { argv: flags({ 'log-level': 'loud' }), message: /^--log-level \(CMDB_HOOK_LOG_LEVEL\) "loud" is not a level; use one of: trace, debug, info, warn, error, fatal, silent$/ },
    { argv: flags(), env: { CMDB_HOOK_LOG_LEVEL: '' }, message: /^--log-level \(CMDB_HOOK_LOG_LEVEL\) "" is not a level; / },
    { command: 'deregister', argv: flags({ 'deregister-action': 'archive' }), message: /^--deregister-action \(CMDB_HOOK_DEREGISTER_ACTION\) "archive" is not known; use delete or retire$/ },
    { command: 'deregister', argv: flags(), env: { CMDB_HOOK_DEREGISTER_ACTION: 'Retire' }, message: /^--deregister-action \(CMDB_HOOK_DEREGISTER_ACTION\) "Retire" is not known; / },
    ...['App', '-app', 'app-', 'my_app', 'a'.repeat(64)].map((name) => ({ argv: flags({ container: name }), message: CONTAINER(name) })),
    { argv: flags({ 'ready-url': 'http://127.0.0.1:8080/', 'ready-tcp': '8080' }), message: /^--ready-url \(CMDB_HOOK_READY_URL\) and --ready-tcp \(CMDB_HOOK_READY_TCP\) exclude each other; keep one$/ },
    { argv: flags({ 'ready-url': 'http://127.0.0.1:8080/' }), env: { CMDB_HOOK_READY_TCP: '8080' }, message: /^--ready-url \(CMDB_HOOK_READY_URL\) and --ready-tcp \(CMDB_HOOK_READY_TCP\) exclude each other/ },
    { argv: flags(), env: { CMDB_HOOK_READY_URL: '' }, message: /^--ready-url \(CMDB_HOOK_READY_URL\) is empty; give a URL or leave it out$/ },
    { argv: flags({ 'ready-url': '   ' }), message: /^--ready-url \(CMDB_HOOK_READY_URL\) is empty; / },
    // src/settings/url-settings.ts: --ready-url
    { argv: flags({ 'ready-url': 'not a url' }), message: /^--ready-url \(CMDB_HOOK_READY_URL\) is not a URL: "not a url"; write it like http:\/\/127\.0\.0\.1:8080\/path$/ },
    { argv: flags({ 'ready-url': 'localhost:8080/healthz' }), message: /^--ready-url \(CMDB_HOOK_READY_URL\) must be an http or https URL, not localhost:$/ },
    { argv: flags({ 'ready-url': 'ftp://127.0.0.1/' }), message: /^--ready-url \(CMDB_HOOK_READY_URL\) must be an http or https URL, not ftp:$/ },
    { argv: flags({ 'ready-url': 'http://probe:hunter2@127.0.0.1:8080/' }), message: /^--ready-url \(CMDB_HOOK_READY_URL\) must not hold credentials; /, secrets: ['hunter2'] },
    { argv: flags({ 'ready-url': 'http://127.0.0.1:8080/a\tb' }), message: /^--ready-url \(CMDB_HOOK_READY_URL\) holds a space or control character; remove it$/ },
    { argv: flags({ 'ready-url': 'http://127.0.0.1:0/healthz' }), message: /^--ready-url \(CMDB_HOOK_READY_URL\) 127\.0\.0\.1:0 has port 0; give the port it listens on$/ },
    // --ready-tcp
    ...['70000', '0', 'localhost:', 'bad_host:80', '[::zz]:80', '::1:80', '1.2.3:80', 'http://x:80'].map((raw) => ({ argv: flags({ 'ready-tcp': raw }), message: TCP(raw) })),
    // src/config/fields.ts
    ...['team', '=shop', '1team=x', 'te am=x', `${'k'.repeat(129)}=x`].map((entry) => ({ argv: flags({ field: entry }), message: FIELD(entry) })),
    { argv: flags({ field: ['team=a', 'owner=b', 'team=c'] }), message: /^--field \(CMDB_HOOK_FIELD\) gives "team" twice; keep one$/ },
    { command: 'deregister', argv: flags(), env: { CMDB_HOOK_FIELD: 'team=a\n team =b' }, message: /^--field \(CMDB_HOOK_FIELD\) gives "team" twice; keep one$/ },
    // src/cmdb/connection.ts and --cmdb-url (url-settings.ts)
    { argv: flags({ 'cmdb-url': undefined }), message: new RegExp(`${CMDB_URL} is required: set it to the CMDB API base URL, or use --dry-run$`) },
    { command: 'deregister', argv: flags({ 'cmdb-url': undefined }), env: { CMDB_HOOK_CMDB_URL: '  ' }, message: new RegExp(`${CMDB_URL} is required: `) },
    { argv: flags({ 'cmdb-url': 'http://user:s3cret@[bad/' }), message: new RegExp(`${CMDB_URL} is not a URL: "http://\\*\\*\\*@\\[bad/"; write it like `), secrets: ['s3cret'] },
    { argv: flags({ 'cmdb-url': 'ftp://cmdb.test/' }), message: new RegExp(`${CMDB_URL} must be an http or https URL, not ftp:$`) },
    { argv: flags({ 'cmdb-url': 'https://user:s3cret@cmdb.test/api' }), message: new RegExp(`${CMDB_URL} must not hold credentials; put the token in a file and use --cmdb-token-file$`), secrets: ['s3cret'] },
    { argv: flags({ 'cmdb-url': 'https://cmdb.test/a pi' }), message: new RegExp(`${CMDB_URL} holds a space or control character; remove it$`) },
    { argv: flags({ 'cmdb-url': 'https://cmdb.test:0/api' }), message: new RegExp(`${CMDB_URL} cmdb\\.test:0 has port 0; `) },
    { argv: flags({ 'cmdb-url': 'https://cmdb.test/api?' }), message: new RegExp(`${CMDB_URL} https://cmdb\\.test/api carries a query or fragment \\(an empty \\? or # too\\)${PLAIN_BASE}`) },
    { argv: flags({ 'cmdb-url': 'https://cmdb.test/api?key=s3cret' }), message: new RegExp(`${CMDB_URL} https://cmdb\\.test/api carries a query or fragment`), secrets: ['s3cret'] },
    { argv: flags({ 'cmdb-url': 'https://cmdb.test/api#' }), message: new RegExp(`${CMDB_URL} https://cmdb\\.test/api carries a query or fragment`) },
    ...['https://cmdb.test/api/../admin', 'https://cmdb.test/api/%2e%2E/admin', 'https://cmdb.test/api/..;/admin', 'https://cmdb.test/api/.'].map((url) => ({
      argv: flags({ 'cmdb-url': url }),
      message: new RegExp(`${CMDB_URL} ${literal(JSON.stringify(url))} holds a dot segment \\(/\\. or /\\.\\.\\), which servers resolve differently${PLAIN_BASE}`),
    })),
    ...['https://cmdb.test/api%2Fv1', 'https://cmdb.test/api%5c', 'https://cmdb.test/a%3Fb', 'https://cmdb.test/a%00'].map((url) => ({
      argv: flags({ 'cmdb-url': url }),
      message: new RegExp(`${CMDB_URL} ${literal(JSON.stringify(url))} holds an encoded /, \\\\, \\?, # or control character, which servers decode differently`),
    })),
    // src/cmdb/factory.ts
    { argv: flags({ 'cmdb-kind': 'consul' }), message: /^--cmdb-kind \(CMDB_HOOK_CMDB_KIND\) "consul" is not known; use one of: http, template, netbox, servicenow$/ },
    { command: 'deregister', argv: flags(), env: { CMDB_HOOK_CMDB_KIND: 'NetBox' }, message: /^--cmdb-kind \(CMDB_HOOK_CMDB_KIND\) "NetBox" is not known; / },
    { argv: flags({ 'netbox-tenant': 'shop' }), message: OTHER_KIND('netbox-tenant', 'netbox', 'http') },
    { argv: flags(), env: { CMDB_HOOK_NETBOX_TAG: 'k8s' }, message: OTHER_KIND('netbox-tag', 'netbox', 'http') },
    { argv: flags(), env: { CMDB_HOOK_NETBOX_VRF: '' }, message: OTHER_KIND('netbox-vrf', 'netbox', 'http') },
    { argv: flags({ 'cmdb-user': 'svc' }), message: OTHER_KIND('cmdb-user', 'servicenow', 'http') },
    { argv: flags({ 'cmdb-kind': 'template', 'template-file': '/t.json', 'servicenow-data-source': 'k8s' }), message: OTHER_KIND('servicenow-data-source', 'servicenow', 'template') },
    { command: 'deregister', argv: flags({ 'cmdb-kind': 'netbox', 'template-file': '/t.json' }), message: OTHER_KIND('template-file', 'template', 'netbox') },
    { argv: flags({ ...SERVICENOW, 'netbox-vrf': 'blue' }), message: OTHER_KIND('netbox-vrf', 'netbox', 'servicenow') },
    // Each backend's own settings
    { argv: flags({ 'cmdb-kind': 'template' }), message: /^--template-file \(CMDB_HOOK_TEMPLATE_FILE\) is required with --cmdb-kind template: point it at the request template \(a mounted ConfigMap key\)$/ },
    { command: 'deregister', argv: flags({ 'cmdb-kind': 'template' }), env: { CMDB_HOOK_TEMPLATE_FILE: '' }, message: /^--template-file \(CMDB_HOOK_TEMPLATE_FILE\) is required with --cmdb-kind template/ },
    { argv: flags({ ...SERVICENOW, 'servicenow-data-source': undefined }), message: /^--servicenow-data-source \(CMDB_HOOK_SERVICENOW_DATA_SOURCE\) is required with --cmdb-kind servicenow: the discovery source name registered for Identification and Reconciliation$/ },
    { command: 'deregister', argv: flags({ ...SERVICENOW, 'servicenow-data-source': ' ' }), message: /^--servicenow-data-source \(CMDB_HOOK_SERVICENOW_DATA_SOURCE\) is required with --cmdb-kind servicenow/ },
    { argv: flags({ ...SERVICENOW, 'cmdb-user': 'svc' }), message: /^--cmdb-user \(CMDB_HOOK_CMDB_USER\) and --cmdb-password-file \(CMDB_HOOK_CMDB_PASSWORD_FILE\) go together for basic auth; set both, or use --cmdb-token-file$/ },
    { argv: flags(SERVICENOW), env: { CMDB_HOOK_CMDB_PASSWORD_FILE: '/secrets/password' }, message: /^--cmdb-user \(CMDB_HOOK_CMDB_USER\) and --cmdb-password-file \(CMDB_HOOK_CMDB_PASSWORD_FILE\) go together/ },
    {
      argv: flags({ ...SERVICENOW, 'cmdb-user': 'svc', 'cmdb-password-file': '/secrets/password', 'cmdb-token-file': '/secrets/token' }),
      message: /^--cmdb-user \(CMDB_HOOK_CMDB_USER\) and --cmdb-token-file \(CMDB_HOOK_CMDB_TOKEN_FILE\) exclude each other; use basic auth or a bearer token, not both$/,
    },
  ];
}
