import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { ALL_OPTIONS as OPTIONS } from '../../src/cli/commands.ts';
import { defaultOf, envVarOf } from '../../src/settings/option.ts';
import { VERSION } from '../../src/version.ts';

const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

test('the version the binary reports is the package version', () => {
  assert.equal(VERSION, pkg.version);
});

test('the README documents every flag with its env var and default', () => {
  for (const option of OPTIONS) {
    const row = readme.split('\n').find((line) => line.startsWith(`| \`--${option.flag}\``));
    assert.ok(row, `README has no row for --${option.flag}`);
    assert.ok(row.includes(`\`${envVarOf(option.flag)}\``), `README row of --${option.flag} names ${envVarOf(option.flag)}`);
    for (const command of option.commands) {
      const fallback = defaultOf(option, command);
      if (fallback !== undefined) assert.ok(row.includes(fallback), `README row of --${option.flag} shows its default ${fallback}`);
    }
  }
});

test('the fixed flag names of the command-line contract exist', () => {
  const names = new Set(OPTIONS.map((option) => option.flag));
  const contract = ['cmdb-url', 'cmdb-kind', 'cmdb-token-file', 'cmdb-ca-file', 'cmdb-cert-file', 'cmdb-key-file', 'cluster', 'container', 'app', 'field', 'timeout', 'strict', 'dry-run', 'log-level', 'log-file', 'podinfo-dir', 'ready-url', 'ready-tcp', 'ready-interval', 'deregister-action', 'drain'];
  for (const name of contract) assert.ok(names.has(name), name);
});
