// Each mistake gives exit 2, one line that names the flag or env var and what to do, and no
// request to the CMDB (nor to the app).
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { runHook } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

interface BadInput {
  name: string;
  command?: 'register' | 'deregister';
  /** Flags added to (or, with `replace`, instead of) the scene's base flags. */
  args?: string[];
  replace?: (flags: string[]) => string[];
  env?: Record<string, string | undefined>;
  labels?: string;
  message: RegExp;
}

const files = mkdtempSync(join(tmpdir(), 'cmdb-hook-bad-'));
const emptyToken = join(files, 'empty-token');
writeFileSync(emptyToken, '  \n');
const controlToken = join(files, 'control-token');
writeFileSync(controlToken, 'tok\u0001en');
const loopDir = join(files, 'podinfo-loop');
mkdirSync(loopDir);
symlinkSync('labels', join(loopDir, 'labels')); // a link to itself: ELOOP, not "no labels"
const loopFile = join(files, 'namespace-loop');
symlinkSync('namespace-loop', loopFile);
const without = (flag: string) => (flags: string[]) => flags.filter((_, index) => flags[index] !== flag && flags[index - 1] !== flag);
const swap = (flag: string, value: string) => (flags: string[]) => flags.map((entry, index) => (flags[index - 1] === flag ? value : entry));
const edit = (flag: string, change: (value: string) => string) => (flags: string[]) => flags.map((entry, index) => (flags[index - 1] === flag ? change(entry) : entry));

const CASES: BadInput[] = [
  { name: 'unknown flag', args: ['--bogus', '1'], message: /Unknown argument: bogus/ },
  { name: 'a deregister-only flag on register', args: ['--drain', '5s'], message: /Unknown argument: drain/ },
  { name: 'a register-only flag on deregister', command: 'deregister', args: ['--ready-url', 'http://127.0.0.1:1/'], message: /Unknown argument: ready-url/ },
  { name: 'missing --cluster', replace: without('--cluster'), message: /--cluster \(CMDB_HOOK_CLUSTER\) is required/ },
  { name: 'missing --container', replace: without('--container'), message: /--container \(CMDB_HOOK_CONTAINER\) is required/ },
  { name: 'missing --cmdb-url', replace: without('--cmdb-url'), message: /--cmdb-url \(CMDB_HOOK_CMDB_URL\) is required.*--dry-run/ },
  { name: 'a --cmdb-url that is no URL', replace: swap('--cmdb-url', 'cmdb.local/records'), message: /--cmdb-url \(CMDB_HOOK_CMDB_URL\) is not a URL/ },
  { name: 'a --cmdb-url that is not http', replace: swap('--cmdb-url', 'ftp://127.0.0.1/records'), message: /--cmdb-url .* must be an http or https URL/ },
  { name: 'a query or fragment in --cmdb-url', replace: swap('--cmdb-url', 'http://127.0.0.1/records?site=eu#top'), message: /--cmdb-url \(CMDB_HOOK_CMDB_URL\) http:\/\/127\.0\.0\.1\/records carries a query or fragment/ },
  { name: 'credentials in --cmdb-url', replace: swap('--cmdb-url', 'http://admin:hunter2@127.0.0.1/records'), message: /--cmdb-url .* must not hold credentials.*--cmdb-token-file/ },
  { name: 'an empty fragment on --cmdb-url (DELETE of the collection)', command: 'deregister', replace: edit('--cmdb-url', (url) => `${url}#`), message: /--cmdb-url \(CMDB_HOOK_CMDB_URL\) http:\/\/127\.0\.0\.1:\d+\/records carries a query or fragment \(an empty \? or # too\); give the plain base URL/ },
  { name: 'an empty query on --cmdb-url', command: 'deregister', replace: edit('--cmdb-url', (url) => `${url}?`), message: /--cmdb-url .* carries a query or fragment/ },
  { name: 'a query holding a key on --cmdb-url, not shown', replace: edit('--cmdb-url', (url) => `${url}?api_key=hunter2`), message: /--cmdb-url .*\/records carries a query or fragment/ },
  { name: 'a --cmdb-url ending in /./', command: 'deregister', replace: edit('--cmdb-url', (url) => `${url}/./`), message: /--cmdb-url .* holds a dot segment/ },
  { name: 'a --cmdb-url ending in /..', command: 'deregister', replace: edit('--cmdb-url', (url) => `${url}/..`), message: /--cmdb-url .* holds a dot segment/ },
  { name: 'a --cmdb-url with an encoded dot segment', command: 'deregister', replace: edit('--cmdb-url', (url) => `${url}/%2E%2e/x`), message: /--cmdb-url .* holds a dot segment/ },
  { name: 'a --cmdb-url with a Tomcat ..; segment', command: 'deregister', replace: edit('--cmdb-url', (url) => `${url}/..;/x`), message: /--cmdb-url .* holds a dot segment/ },
  { name: 'a --cmdb-url with an encoded slash', command: 'deregister', replace: edit('--cmdb-url', (url) => `${url}%2F..`), message: /--cmdb-url .* holds an encoded \/, \\, \?, # or control character/ },
  { name: 'a --cmdb-url with an encoded ?', command: 'deregister', replace: edit('--cmdb-url', (url) => `${url}/%3F`), message: /--cmdb-url .* holds an encoded/ },
  { name: 'a --cmdb-url with a tab the URL parser would drop', replace: edit('--cmdb-url', (url) => `${url.slice(0, -2)}\t${url.slice(-2)}`), message: /--cmdb-url \(CMDB_HOOK_CMDB_URL\) holds a space or control character/ },
  { name: 'port 0 in --cmdb-url', replace: swap('--cmdb-url', 'http://127.0.0.1:0/records'), message: /--cmdb-url \(CMDB_HOOK_CMDB_URL\) 127\.0\.0\.1:0 has port 0/ },
  { name: 'port 0 in --ready-url', args: ['--ready-url', 'http://127.0.0.1:0/healthz'], message: /--ready-url \(CMDB_HOOK_READY_URL\) 127\.0\.0\.1:0 has port 0/ },
  { name: 'a --ready-tcp host with a space', args: ['--ready-tcp', 'host with space:80'], message: /--ready-tcp \(CMDB_HOOK_READY_TCP\) "host with space:80" is not a port or host:port/ },
  { name: 'a --ready-tcp host that is no IPv6 address', args: ['--ready-tcp', '[no-v6]:80'], message: /--ready-tcp .* is not a port or host:port/ },
  { name: 'a --ready-tcp host that is no IPv4 address', args: ['--ready-tcp', '999.1.1.1:80'], message: /--ready-tcp .* is not a port or host:port/ },
  { name: 'credentials in a --cmdb-url that is no URL, not shown', replace: swap('--cmdb-url', 'http://admin:hunter2@[bad/records'), message: /--cmdb-url .* is not a URL: "http:\/\/\*\*\*@\[bad\/records"/ },
  { name: 'a bad --timeout', args: ['--timeout', '5x'], message: /--timeout \(CMDB_HOOK_TIMEOUT\) "5x" has an unknown unit "x"; write it like 30s, 1m30s or 500ms/ },
  { name: 'a bare number as --timeout', args: ['--timeout', '300'], message: /--timeout .* "300" has a number without a unit; write it like 300s or 300ms/ },
  { name: 'a zero --timeout', args: ['--timeout', '0s'], message: /--timeout .* "0s" is zero; give a positive duration/ },
  { name: 'a zero --timeout written 0, as Go allows', args: ['--timeout', '0'], message: /--timeout .* "0" is zero; give a positive duration/ },
  { name: 'a duration in days', args: ['--timeout', '1d'], message: /--timeout .* "1d" has an unknown unit "d"/ },
  { name: 'a negative --timeout', args: ['--timeout=-5s'], message: /--timeout \(CMDB_HOOK_TIMEOUT\) "-5s" is negative; give a positive duration/ },
  { name: 'a negative --drain', command: 'deregister', args: ['--drain=-1s'], message: /--drain \(CMDB_HOOK_DRAIN\) "-1s" is negative; give 0s or a positive duration/ },
  { name: 'a negative duration in an env var', command: 'deregister', env: { CMDB_HOOK_DRAIN: '-0.5s' }, message: /--drain \(CMDB_HOOK_DRAIN\) "-0.5s" is negative/ },
  { name: 'a negative --timeout as a separate word', args: ['--timeout', '-5s'], message: /--timeout \(CMDB_HOOK_TIMEOUT\) "-5s" is negative/ },
  { name: 'a negative --drain as a separate word', command: 'deregister', args: ['--drain', '-1s'], message: /--drain \(CMDB_HOOK_DRAIN\) "-1s" is negative; give 0s or a positive duration/ },
  { name: 'a container name that starts with -', replace: swap('--container', '-app'), message: /--container \(CMDB_HOOK_CONTAINER\) "-app" is not a container name/ },
  { name: 'a --field that starts with -', args: ['--field', '-x=1'], message: /--field \(CMDB_HOOK_FIELD\) "-x=1" is not key=value/ },
  { name: 'a boolean given twice', args: ['--strict', '--strict'], message: /--strict \(CMDB_HOOK_STRICT\) was given more than once \(--strict --strict\); give it once/ },
  { name: 'a boolean given twice, once with a value', command: 'deregister', args: ['--dry-run=false', '--dry-run'], message: /--dry-run \(CMDB_HOOK_DRY_RUN\) was given more than once/ },
  { name: 'a bad duration in an env var', env: { CMDB_HOOK_READY_INTERVAL: 'fast' }, message: /CMDB_HOOK_READY_INTERVAL.*"fast" is not a duration/ },
  { name: 'a duration past Go\'s range', args: ['--timeout', '3000000h'], message: /--timeout .* "3000000h" is longer than 24h/ },
  { name: 'a --drain that does not fit in --timeout', command: 'deregister', args: ['--drain', '10s'], message: /--drain \(CMDB_HOOK_DRAIN\) must be shorter than --timeout/ },
  { name: 'an unreadable token file', args: ['--cmdb-token-file', join(files, 'missing-token')], message: /--cmdb-token-file \(CMDB_HOOK_CMDB_TOKEN_FILE\) .* cannot be read \(ENOENT\)/ },
  { name: 'an empty token file', args: ['--cmdb-token-file', emptyToken], message: /--cmdb-token-file .* is empty/ },
  { name: 'a malformed labels file', labels: 'app="shop"\ntier=web', message: /--podinfo-dir \(CMDB_HOOK_PODINFO_DIR\): .*labels line 2 is malformed/ },
  { name: 'a labels file that is a symlink loop', replace: swap('--podinfo-dir', loopDir), message: /--podinfo-dir \(CMDB_HOOK_PODINFO_DIR\): .*\/labels cannot be read \(ELOOP\); check the downwardAPI volume mount/ },
  { name: 'a --podinfo-dir that is a file', replace: swap('--podinfo-dir', emptyToken), message: /--podinfo-dir \(CMDB_HOOK_PODINFO_DIR\): .*\/labels cannot be read \(ENOTDIR\)/ },
  { name: 'a namespace file that is a symlink loop', env: { POD_NAMESPACE: undefined }, args: ['--namespace-file', loopFile], message: /--namespace-file \(CMDB_HOOK_NAMESPACE_FILE\): .*namespace-loop cannot be read \(ELOOP\)/ },
  { name: 'a --field without =', args: ['--field', 'owner'], message: /--field \(CMDB_HOOK_FIELD\) "owner" is not key=value/ },
  { name: 'a --field with an empty key', args: ['--field', '=x'], message: /--field .* "=x" is not key=value/ },
  { name: 'the same --field twice', args: ['--field', 'a=1', '--field', 'a=2'], message: /--field .* gives "a" twice/ },
  { name: 'a one-value flag given twice', args: ['--app', 'a', '--app', 'b'], message: /--app \(CMDB_HOOK_APP\) was given more than once/ },
  { name: 'no POD_UID', env: { POD_UID: undefined }, message: /POD_UID is not set: .*fieldRef.fieldPath: metadata.uid/ },
  { name: 'a POD_UID that is not a UID', env: { POD_UID: '../../etc' }, message: /POD_UID "..\/..\/etc" is not a pod UID/ },
  { name: 'no namespace anywhere', env: { POD_NAMESPACE: undefined }, args: ['--namespace-file', join(files, 'none')], message: /POD_NAMESPACE is not set .*fieldRef metadata.namespace/ },
  { name: 'an unknown --cmdb-kind', args: ['--cmdb-kind', 'oracle'], message: /--cmdb-kind \(CMDB_HOOK_CMDB_KIND\) "oracle" is not known; use one of: http/ },
  { name: 'a --ready-url that is not http', args: ['--ready-url', 'ftp://127.0.0.1/x'], message: /--ready-url \(CMDB_HOOK_READY_URL\) must be an http or https URL/ },
  { name: 'a --ready-tcp port out of range', args: ['--ready-tcp', '99999'], message: /--ready-tcp \(CMDB_HOOK_READY_TCP\) "99999" is not a port/ },
  { name: 'both --ready-url and --ready-tcp', args: ['--ready-url', 'http://127.0.0.1:1/', '--ready-tcp', '1'], message: /exclude each other/ },
  { name: 'an unknown --log-level', args: ['--log-level', 'loud'], message: /--log-level \(CMDB_HOOK_LOG_LEVEL\) "loud" is not a level/ },
  { name: 'an unknown --deregister-action', command: 'deregister', args: ['--deregister-action', 'archive'], message: /--deregister-action .* "archive" is not known; use delete or retire/ },
  { name: 'a client certificate without its key', args: ['--cmdb-cert-file', emptyToken], message: /--cmdb-cert-file .* and --cmdb-key-file .* go together/ },
  { name: 'a CA file for an http CMDB', args: ['--cmdb-ca-file', emptyToken], message: /--cmdb-ca-file .* is set but --cmdb-url \(CMDB_HOOK_CMDB_URL\) is http/ },
  { name: 'a container name that Kubernetes would refuse', replace: swap('--container', 'Web_1'), message: /--container .* "Web_1" is not a container name/ },
  { name: 'a boolean env var that is neither true nor false', env: { CMDB_HOOK_STRICT: 'maybe' }, message: /CMDB_HOOK_STRICT must be true or false, not "maybe"/ },
  { name: 'an empty --ready-url', args: ['--ready-url', ''], message: /--ready-url .* was given without a value/ },
  { name: 'a flag with no value at the end', args: ['--app'], message: /--app \(CMDB_HOOK_APP\) was given without a value/ },
  { name: 'a token that cannot go into a header', args: ['--cmdb-token-file', controlToken], message: /--cmdb-token-file .* must hold the CMDB token alone: one word of visible ASCII/ },
  { name: 'a duration longer than a day', args: ['--timeout', '48h'], message: /--timeout .* "48h" is longer than 24h/ },
  { name: 'dot notation', args: ['--field.owner', 'x'], message: /Unknown argument: field\.owner/ },
  { name: 'a negated boolean', args: ['--no-strict'], message: /Unknown argument: no-strict/ },
  { name: 'a boolean given a word', args: ['--strict=maybe'], message: /--strict \(CMDB_HOOK_STRICT\) takes no value, or =true \/ =false; not "maybe"/ },
  { name: 'words after --', args: ['--', '--strict'], message: /unexpected argument\(s\) \["--strict"\] after the command/ },
];

for (const input of CASES) {
  test(`bad input: ${input.name} -> exit 2, one line naming it, nothing sent`, async (t) => {
    const { cmdb, app, env, flags } = await scene(t, { app: { readyAfterMs: 0 }, ...(input.labels ? { labels: input.labels } : {}) });
    const base = input.replace ? input.replace(flags) : flags;
    const command = input.command ?? 'register';
    const ready = command === 'register' && !input.args?.some((arg) => arg.startsWith('--ready')) ? ['--ready-url', app!.readyUrl] : [];
    const run = await runHook([command, ...base, ...ready, ...(input.args ?? [])], { env: { ...env, ...input.env } });
    assert.equal(run.code, 2, run.stderr);
    assert.equal(run.stderr.trimEnd().split('\n').length, 1, `one line: ${run.stderr}`);
    assert.match(run.summary, input.message);
    assert.doesNotMatch(run.stderr, /hunter2/);
    assert.equal(cmdb.requests.length, 0, 'no request to the CMDB');
    assert.equal(app!.checks(), 0, 'no request to the app');
  });
}
