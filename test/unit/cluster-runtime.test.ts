// controller and consume on a Node older than the cluster side's libraries need: one line naming the need and the
// remedy, exit 2, instead of a TypeError from inside a library reported as a bug. The other commands still run there.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { test } from 'node:test';
import { checkClusterRuntime } from '../../src/commands/cluster-runtime.ts';
import { ConfigError } from '../../src/errors.ts';

const BUNDLE = new URL('../../dist/cmdb-hook.cjs', import.meta.url).pathname;

test('checkClusterRuntime: Node 26 and later pass; older ones are a config error naming the version and the remedy', () => {
  for (const version of ['26.0.0', '26.10.0', '27.1.0']) assert.doesNotThrow(() => checkClusterRuntime('controller', version));
  for (const version of ['20.20.2', '22.12.0', '25.9.0']) {
    assert.throws(() => checkClusterRuntime('consume', version), (error: unknown) => error instanceof ConfigError && error.message === `Node ${version} is too old for consume, which needs Node 26 or later: run the single executable (it carries its own Node), or an image with Node 26`);
  }
});

// The machine's own Node (Debian's) is older than the pinned one on the machines this runs on; where it is not, there
// is nothing to show.
const system = '/usr/bin/node';
const systemMajor = existsSync(system) ? Number.parseInt(spawnSync(system, ['-p', 'process.versions.node'], { encoding: 'utf8' }).stdout, 10) : Number.NaN;
test('the bundle on an older Node: controller and consume exit 2 with that line; the other commands still run', { skip: !(systemMajor < 26) && `no Node older than 26 at ${system}` }, () => {
  for (const command of ['controller', 'consume']) {
    const run = spawnSync(system, [BUNDLE, command, '--cluster', 'c'], { encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } });
    assert.equal(run.status, 2, run.stderr);
    assert.match(run.stderr.trimEnd().split('\n').at(-1) ?? '', new RegExp(`^cmdb-hook ${command}: Node ${systemMajor}\\.\\d+\\.\\d+ is too old for ${command}, which needs Node 26 or later: run the single executable`));
  }
  const version = spawnSync(system, [BUNDLE, 'version', '--json'], { encoding: 'utf8' });
  assert.equal(version.status, 0, version.stderr);
  assert.equal((JSON.parse(version.stdout) as { runtime?: { node?: string } }).runtime?.node?.split('.')[0], String(systemMajor));
});
