// Point 7 of issue 2: each mistake gives exit 2, one line that names the flag or env var and what to do, and no
// request to the CMDB (nor to the app).
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
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
const without = (flag: string) => (flags: string[]) => flags.filter((_, index) => flags[index] !== flag && flags[index - 1] !== flag);
const swap = (flag: string, value: string) => (flags: string[]) => flags.map((entry, index) => (flags[index - 1] === flag ? value : entry));

const CASES: BadInput[] = [
  { name: 'unknown flag', args: ['--bogus', '1'], message: /Unknown argument: bogus/ },
  { name: 'a deregister-only flag on register', args: ['--drain', '5s'], message: /Unknown argument: drain/ },
  { name: 'a register-only flag on deregister', command: 'deregister', args: ['--ready-url', 'http://127.0.0.1:1/'], message: /Unknown argument: ready-url/ },
  { name: 'missing --cluster', replace: without('--cluster'), message: /--cluster \(CMDB_HOOK_CLUSTER\) is required/ },
  { name: 'missing --container', replace: without('--container'), message: /--container \(CMDB_HOOK_CONTAINER\) is required/ },
  { name: 'missing --cmdb-url', replace: without('--cmdb-url'), message: /--cmdb-url \(CMDB_HOOK_CMDB_URL\) is required.*--dry-run/ },
  { name: 'a --cmdb-url that is no URL', replace: swap('--cmdb-url', 'cmdb.local/records'), message: /--cmdb-url \(CMDB_HOOK_CMDB_URL\) is not a URL/ },
  { name: 'a --cmdb-url that is not http', replace: swap('--cmdb-url', 'ftp://127.0.0.1/records'), message: /--cmdb-url .* must be an http or https URL/ },
  { name: 'a query or fragment in --cmdb-url', replace: swap('--cmdb-url', 'http://127.0.0.1/records?site=eu#top'), message: /--cmdb-url \(CMDB_HOOK_CMDB_URL\) must not carry a query or fragment/ },
  { name: 'credentials in --cmdb-url', replace: swap('--cmdb-url', 'http://admin:hunter2@127.0.0.1/records'), message: /--cmdb-url .* must not hold credentials.*--cmdb-token-file/ },
  { name: 'a bad --timeout', args: ['--timeout', '5x'], message: /--timeout \(CMDB_HOOK_TIMEOUT\) is not a positive duration: "5x"; write it like 250ms, 30s or 2m/ },
  { name: 'a bare number as --timeout', args: ['--timeout', '300'], message: /--timeout .* not a positive duration: "300"/ },
  { name: 'a zero --timeout', args: ['--timeout', '0s'], message: /--timeout .* not a positive duration/ },
  { name: 'a bad duration in an env var', env: { CMDB_HOOK_READY_INTERVAL: 'fast' }, message: /CMDB_HOOK_READY_INTERVAL.*"fast"/ },
  { name: 'a --drain that does not fit in --timeout', command: 'deregister', args: ['--drain', '10s'], message: /--drain \(CMDB_HOOK_DRAIN\) must be shorter than --timeout/ },
  { name: 'an unreadable token file', args: ['--cmdb-token-file', join(files, 'missing-token')], message: /--cmdb-token-file \(CMDB_HOOK_CMDB_TOKEN_FILE\) .* cannot be read \(ENOENT\)/ },
  { name: 'an empty token file', args: ['--cmdb-token-file', emptyToken], message: /--cmdb-token-file .* is empty/ },
  { name: 'a malformed labels file', labels: 'app="shop"\ntier=web', message: /--podinfo-dir \(CMDB_HOOK_PODINFO_DIR\): .*labels line 2 is malformed/ },
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
  { name: 'a CA file for an http CMDB', args: ['--cmdb-ca-file', emptyToken], message: /--cmdb-ca-file .* is set but --cmdb-url is http/ },
  { name: 'a container name that Kubernetes would refuse', replace: swap('--container', 'Web_1'), message: /--container .* "Web_1" is not a container name/ },
  { name: 'a boolean env var that is neither true nor false', env: { CMDB_HOOK_STRICT: 'maybe' }, message: /CMDB_HOOK_STRICT must be true or false, not "maybe"/ },
  { name: 'an empty --ready-url', args: ['--ready-url', ''], message: /--ready-url .* was given without a value/ },
  { name: 'a flag with no value at the end', args: ['--app'], message: /--app \(CMDB_HOOK_APP\) was given without a value/ },
  { name: 'a token that cannot go into a header', args: ['--cmdb-token-file', controlToken], message: /--cmdb-token-file .* must hold the CMDB token alone: one word of visible ASCII/ },
  { name: 'a duration longer than a day', args: ['--timeout', '48h'], message: /--timeout .* 48h is longer than 24h/ },
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
