// Config building, in-process: which value wins (flag, then env var, then default) and every message that refuses
// a setting. argv is what yargs hands over: only the flags given on the command line are present.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { NETBOX_OPTIONS } from '../../src/cmdb/netbox/settings.ts';
import type { CommandModule } from '../../src/commands/command.ts';
import { deregisterCommand } from '../../src/commands/deregister.ts';
import { installCommand } from '../../src/commands/install.ts';
import { prepareHook } from '../../src/commands/prepare-hook.ts';
import { registerCommand } from '../../src/commands/register.ts';
import { ConfigError } from '../../src/errors.ts';
import { readSettings, type Argv } from '../../src/settings/read-settings.ts';
import { configRows, flags, type Command } from './config-rows.ts';
import { tlsRows } from './config-tls-rows.ts';

const COMMANDS: Record<Command, CommandModule> = { register: registerCommand, deregister: deregisterCommand };

const hook = (command: Command, argv: Argv, env: NodeJS.ProcessEnv = {}) => prepareHook(command, COMMANDS[command].options, argv, env);

test('a flag beats its env var, which beats the default', () => {
  const rows: { command: Command; argv: Argv; env: NodeJS.ProcessEnv; pick: (c: ReturnType<typeof hook>) => unknown; want: unknown }[] = [
    { command: 'register', argv: flags({ cluster: 'flag' }), env: { CMDB_HOOK_CLUSTER: 'env' }, pick: (c) => c.config.cluster, want: 'flag' },
    { command: 'register', argv: flags({ cluster: undefined }), env: { CMDB_HOOK_CLUSTER: 'env' }, pick: (c) => c.config.cluster, want: 'env' },
    { command: 'register', argv: flags(), env: {}, pick: (c) => c.config.logLevel, want: 'info' },
    { command: 'register', argv: flags(), env: { CMDB_HOOK_LOG_LEVEL: 'debug' }, pick: (c) => c.config.logLevel, want: 'debug' },
    { command: 'register', argv: flags({ 'log-level': 'warn' }), env: { CMDB_HOOK_LOG_LEVEL: 'debug' }, pick: (c) => c.config.logLevel, want: 'warn' },
    { command: 'register', argv: flags(), env: {}, pick: (c) => c.config.timeoutMs, want: 300_000 },
    { command: 'deregister', argv: flags(), env: {}, pick: (c) => c.config.timeoutMs, want: 10_000 },
    { command: 'deregister', argv: flags(), env: { CMDB_HOOK_TIMEOUT: '45s' }, pick: (c) => c.config.timeoutMs, want: 45_000 },
    { command: 'register', argv: flags({ timeout: '1m30s' }), env: { CMDB_HOOK_TIMEOUT: '45s' }, pick: (c) => c.config.timeoutMs, want: 90_000 },
    { command: 'register', argv: flags(), env: {}, pick: (c) => [c.config.readyIntervalMs, c.config.readyTimeoutMs], want: [30, 1000] },
    { command: 'register', argv: flags({ 'ready-timeout': '500us' }), env: {}, pick: (c) => c.config.readyTimeoutMs, want: 1 },
    { command: 'deregister', argv: flags(), env: {}, pick: (c) => c.config.drainMs, want: 0 },
    { command: 'deregister', argv: flags(), env: { CMDB_HOOK_DRAIN: '2s' }, pick: (c) => c.config.drainMs, want: 2000 },
    { command: 'register', argv: flags(), env: {}, pick: (c) => c.cmdb.connection.requestTimeoutMs, want: 10_000 },
    { command: 'register', argv: flags(), env: { CMDB_HOOK_REQUEST_TIMEOUT: '3s' }, pick: (c) => c.cmdb.connection.requestTimeoutMs, want: 3000 },
    { command: 'register', argv: flags(), env: {}, pick: (c) => [c.config.podinfoDir, c.config.namespaceFile], want: ['/etc/podinfo', '/var/run/secrets/kubernetes.io/serviceaccount/namespace'] },
    { command: 'register', argv: flags({ 'podinfo-dir': '/flag' }), env: { CMDB_HOOK_PODINFO_DIR: '/env' }, pick: (c) => c.config.podinfoDir, want: '/flag' },
    { command: 'register', argv: flags(), env: {}, pick: (c) => c.config.app, want: undefined },
    { command: 'register', argv: flags(), env: { CMDB_HOOK_APP: ' shop ' }, pick: (c) => c.config.app, want: 'shop' },
    { command: 'register', argv: flags({ 'cmdb-url': undefined }), env: { CMDB_HOOK_CMDB_URL: 'https://cmdb.test/api/' }, pick: (c) => c.cmdb.connection.url?.href, want: 'https://cmdb.test/api/' },
    { command: 'register', argv: flags(), env: {}, pick: (c) => c.cmdb.kind, want: 'http' },
    { command: 'register', argv: flags(), env: { CMDB_HOOK_CMDB_KIND: 'netbox' }, pick: (c) => c.cmdb.kind, want: 'netbox' },
    { command: 'register', argv: flags(), env: {}, pick: (c) => c.config.readiness, want: undefined },
    { command: 'register', argv: flags(), env: { CMDB_HOOK_READY_TCP: '8080' }, pick: (c) => c.config.readiness, want: { kind: 'tcp', hosts: ['127.0.0.1', '::1'], port: 8080 } },
    { command: 'register', argv: flags({ 'ready-url': ' http://127.0.0.1:8080/healthz ' }), env: {}, pick: (c) => c.config.readiness?.kind === 'http' && c.config.readiness.url.href, want: 'http://127.0.0.1:8080/healthz' },
    // One ConfigMap feeds both hooks: the other command's settings are not read, not even checked.
    { command: 'deregister', argv: flags(), env: { CMDB_HOOK_READY_URL: 'not a url', CMDB_HOOK_BACKGROUND: 'maybe' }, pick: (c) => [c.config.readiness, c.config.background], want: [undefined, false] },
    { command: 'register', argv: flags(), env: { CMDB_HOOK_DRAIN: 'forever', CMDB_HOOK_DEREGISTER_ACTION: 'archive' }, pick: (c) => [c.config.drainMs, c.config.deregisterAction], want: [0, 'delete'] },
  ];
  for (const [index, row] of rows.entries()) {
    assert.deepEqual(row.pick(hook(row.command, row.argv, row.env)), row.want, `row ${index}: ${row.command} ${JSON.stringify(row.argv)} ${JSON.stringify(row.env)}`);
  }
});

test('booleans: the flag as yargs gives it beats every env spelling', () => {
  for (const flag of ['strict', 'dry-run', 'background'] as const) {
    const env = `CMDB_HOOK_${flag.toUpperCase().replace('-', '_')}`;
    const value = (argv: Argv, envValue?: string) => {
      const { config } = hook('register', flags(argv), envValue === undefined ? {} : { [env]: envValue });
      return { strict: config.strict, 'dry-run': config.dryRun, background: config.background }[flag];
    };
    assert.equal(value({}), false, `${flag} defaults to false`);
    for (const word of ['true', '1', 'yes', 'on', 'TRUE', ' Yes ', 'On\n']) assert.equal(value({}, word), true, `${env}=${JSON.stringify(word)}`);
    for (const word of ['false', '0', 'no', 'off', '', 'OFF', ' no ']) assert.equal(value({}, word), false, `${env}=${JSON.stringify(word)}`);
    assert.equal(value({ [flag]: true }, 'false'), true, `--${flag} beats ${env}=false`);
    assert.equal(value({ [flag]: false }, 'true'), false, `--${flag}=false beats ${env}=true`);
    for (const word of ['maybe', '2', 'y', 'enabled']) {
      assert.throws(() => value({}, word), { name: 'ConfigError', message: new RegExp(`^${env} must be true or false, not ${JSON.stringify(JSON.stringify(word)).slice(1, -1)}$`) });
    }
    assert.equal(value({ [flag]: true }, 'maybe'), true, `a bad ${env} is not read when --${flag} is given`);
  }
});

test('repeatable settings: one value per flag, or per line of the env var; a flag replaces the env var', () => {
  const fields = (argv: Argv, env: NodeJS.ProcessEnv = {}) => hook('register', flags(argv), env).config.fields;
  assert.deepEqual(fields({}), {});
  assert.deepEqual(fields({ field: 'team=shop' }), { team: 'shop' }, 'one --field is a string in argv');
  assert.deepEqual(fields({ field: ['team=shop', 'url=http://x/?a=b,c d'] }), { team: 'shop', url: 'http://x/?a=b,c d' });
  assert.deepEqual(fields({}, { CMDB_HOOK_FIELD: 'team=shop\r\n\n  \nowner=ops\n' }), { team: 'shop', owner: 'ops' });
  assert.deepEqual(fields({ field: 'team=web' }, { CMDB_HOOK_FIELD: 'team=shop\nowner=ops' }), { team: 'web' });
  assert.deepEqual(fields({ field: ' spaced =v ' }), { spaced: 'v ' }, 'the key is trimmed, the value is kept as given');
  const proto = fields({ field: '__proto__=x' });
  assert.equal(Object.hasOwn(proto, '__proto__'), true, 'a __proto__ key is a plain field');
  assert.equal(Object.getPrototypeOf(proto), Object.prototype);

  const tags = (argv: Argv, env: NodeJS.ProcessEnv = {}) => readSettings(NETBOX_OPTIONS, 'register', argv, env).list('netbox-tag');
  assert.deepEqual(tags({}, { CMDB_HOOK_NETBOX_TAG: ' k8s \n\npods\r\n' }), ['k8s', 'pods']);
  assert.deepEqual(tags({ 'netbox-tag': ['a', ' b ', ''] }, { CMDB_HOOK_NETBOX_TAG: 'k8s' }), ['a', 'b']);
  assert.equal(readSettings(NETBOX_OPTIONS, 'register', {}, { CMDB_HOOK_NETBOX_TAG: '' }).given('netbox-tag'), true, 'an empty env var counts as given');
});

test('install: its own default --timeout, and a folder is required', () => {
  assert.equal(installCommand.prepare({ dir: '/cmdb-hook' }, {}).settings.timeoutMs, 60_000);
  assert.equal(installCommand.prepare({ dir: '/cmdb-hook' }, { CMDB_HOOK_TIMEOUT: '2m' }).settings.timeoutMs, 120_000);
  for (const argv of [{}, { dir: '  ' }]) {
    assert.throws(() => installCommand.prepare(argv, {}), { name: 'ConfigError', message: /^install needs the folder to copy into, e\.g\. cmdb-hook install \/cmdb-hook$/ });
  }
});

test('the backend decides the default --deregister-action; an explicit one wins', () => {
  const kinds: Record<string, Argv> = {
    http: {},
    template: { 'cmdb-kind': 'template', 'template-file': '/templates/consul.json' },
    netbox: { 'cmdb-kind': 'netbox' },
    servicenow: { 'cmdb-kind': 'servicenow', 'cmdb-url': 'https://acme.service-now.test', 'servicenow-data-source': 'k8s' },
  };
  const defaults: Record<string, string> = { http: 'delete', template: 'delete', netbox: 'delete', servicenow: 'retire' };
  for (const [kind, argv] of Object.entries(kinds)) {
    assert.equal(hook('deregister', flags(argv)).config.deregisterAction, defaults[kind], `${kind} default`);
    assert.equal(hook('deregister', flags(argv)).cmdb.deregisterAction, defaults[kind], `${kind} backend default`);
    for (const action of ['delete', 'retire']) {
      assert.equal(hook('deregister', flags({ ...argv, 'deregister-action': action })).config.deregisterAction, action, `${kind} --deregister-action ${action}`);
      assert.equal(hook('deregister', flags(argv), { CMDB_HOOK_DEREGISTER_ACTION: action }).config.deregisterAction, action, `${kind} env ${action}`);
    }
  }
});

test('the effective config names the kind, the URL and which TLS parts are set, nothing more', () => {
  const { effective } = registerCommand.prepare(flags({ 'cmdb-token-file': '/secrets/token' }), {});
  assert.equal(effective.cmdbKind, 'http');
  assert.equal(String(effective.cmdbUrl), 'http://127.0.0.1:9/records');
  assert.equal(effective.cmdbTokenFile, '/secrets/token');
  assert.deepEqual(effective.tls, []);
  assert.equal(effective.timeoutMs, 300_000);
});

const scratch = mkdtempSync(join(tmpdir(), 'cmdb-hook-config-'));
after(() => rmSync(scratch, { recursive: true, force: true }));

test('every config-building message, naming its setting', () => {
  const rows = [...configRows(), ...tlsRows(scratch)];
  for (const row of rows) {
    const command = row.command ?? 'register';
    const label = `${command} ${JSON.stringify(row.argv)} ${JSON.stringify(row.env ?? {})}`;
    assert.throws(() => COMMANDS[command].prepare(row.argv, row.env ?? {}), (error) => {
      assert.ok(error instanceof ConfigError, `${label}: ${String(error)}`);
      assert.match(error.message, row.message, label);
      assert.equal(error.message.includes('\n'), false, `${label}: one line`);
      for (const secret of row.secrets ?? []) assert.equal(error.message.includes(secret), false, `${label}: ${secret} is not shown`);
      return true;
    });
  }
  assert.ok(rows.length >= 90, `${rows.length} rows`);
});
