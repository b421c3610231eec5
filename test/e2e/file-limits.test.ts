// Every file a setting names is read up to a documented limit and no further (README "Files and answers"): a wrong
// mount is a config error naming the setting, exit 2, before anything is sent; its content never reaches the output.
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, openSync, closeSync, ftruncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeCertificates } from '../support/certificates.ts';
import { runHook, type HookRun } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-file-limits-'));
const KiB = 1024;
const MiB = 1024 * KiB;

function file(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

function assertRefused(run: HookRun, setting: RegExp, requests: number): void {
  assert.equal(run.code, 2, run.stderr);
  assert.match(run.summary, setting);
  // One plain line: nothing of the file, no log lines.
  assert.equal(run.stderr.trim().split('\n').length, 1, run.stderr.slice(0, 2000));
  assert.equal(requests, 0, 'nothing was sent');
}

test('a token file of 31,000 base64 characters: exit 2 naming the setting, no token in the output', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const token = randomBytes(24_000).toString('base64');
  assert.ok(token.length > 31_000 && token.includes('/') && token.includes('+'));
  const logFile = join(dir, 'long-token.log');
  const run = await runHook(['register', ...flags, '--cmdb-token-file', file('long-token', token), '--log-file', logFile], { env });
  assertRefused(run, /--cmdb-token-file \(CMDB_HOOK_CMDB_TOKEN_FILE\) .*long-token holds more than 8 KiB, the most a token or password may take/, cmdb.requests.length);
  assert.ok(!run.stderr.includes(token.slice(100, 120)), 'part of the token appears on stderr');
});

test('a 100 MB token file is refused at once, without reading it', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const path = join(dir, 'huge-token');
  const fd = openSync(path, 'w');
  ftruncateSync(fd, 100 * MiB);
  closeSync(fd);
  const run = await runHook(['deregister', ...flags, '--cmdb-token-file', path, '--timeout', '4s'], { env });
  assertRefused(run, /--cmdb-token-file .* holds more than 8 KiB/, cmdb.requests.length);
  assert.ok(run.durationMs < 4000, `ended after ${Math.round(run.durationMs)}ms`);
});

test('a device or a socket named as a setting file is refused like a FIFO: exit 2, at once, nothing read', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const socketPath = join(dir, 'token.sock');
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(socketPath, resolve));
  t.after(() => server.close());
  for (const path of ['/dev/zero', socketPath]) {
    const run = await runHook(['register', ...flags, '--cmdb-token-file', path, '--timeout', '3s'], { env, killAfterMs: 10_000 });
    // A device opens and is then refused by its type; a socket cannot be opened at all (ENXIO).
    assertRefused(run, /--cmdb-token-file \(CMDB_HOOK_CMDB_TOKEN_FILE\) .* cannot be read \((not a regular file|ENXIO)\); mount the file/, cmdb.requests.length);
    assert.ok(run.durationMs < 3000, `${path}: ended after ${Math.round(run.durationMs)}ms`);
  }
});

test('a token at the limit works, and is masked when the CMDB echoes it', async (t) => {
  const { cmdb, env, flags } = await scene(t);
  const token = randomBytes(6000).toString('base64');
  const path = file('token-at-limit', `${token}\n`.padEnd(8 * KiB, ' '));
  cmdb.injectFault({ status: 401, body: `refused Bearer ${token} (${Buffer.from(token).toString('base64')})` });
  const run = await runHook(['register', ...flags, '--cmdb-token-file', path, '--strict'], { env });
  assert.equal(run.code, 4, run.stderr.slice(0, 2000));
  assert.match(run.summary, /answered 401 Unauthorized: refused Bearer \*\*\* \(\*\*\*\)/);
  assert.equal(cmdb.requests[0]?.authorization, `Bearer ${token}`);
});

test('each kind of setting file has its limit: CA, client certificate and key, template, labels, namespace', async (t) => {
  const certs = makeCertificates();
  const { cmdb, env, flags } = await scene(t, { cmdb: { tls: { key: certs.serverKey, cert: certs.serverCert } } });
  // Real PEM, padded past the limit with what a wrong mount might hold.
  const padded = (pem: string, limit: number) => `${pem}${'#'.repeat(limit + 1 - pem.length)}`;
  const cases: { name: string; args: string[]; env?: Record<string, string | undefined>; refused: RegExp }[] = [
    { name: 'ca', args: ['--cmdb-ca-file', file('ca.pem', padded(certs.ca, MiB))], refused: /--cmdb-ca-file .* holds more than 1 MiB, the most PEM certificates may take/ },
    {
      name: 'cert',
      args: ['--cmdb-ca-file', certs.caFile, '--cmdb-cert-file', file('client.pem', padded(certs.serverCert, MiB)), '--cmdb-key-file', certs.clientKeyFile],
      refused: /--cmdb-cert-file .* holds more than 1 MiB/,
    },
    {
      name: 'key',
      args: ['--cmdb-ca-file', certs.caFile, '--cmdb-cert-file', certs.clientCertFile, '--cmdb-key-file', file('client.key', padded(certs.serverKey, 64 * KiB))],
      refused: /--cmdb-key-file .* holds more than 64 KiB, the most a private key may take/,
    },
    {
      name: 'template',
      args: ['--cmdb-kind', 'template', '--template-file', file('template.json', `{"description":"${'x'.repeat(MiB)}"}`)],
      refused: /--template-file .* holds more than 1 MiB, the most a request template may take/,
    },
    {
      name: 'labels',
      args: ['--podinfo-dir', podinfoWithLabels(`a="${'x'.repeat(MiB)}"\n`)],
      refused: /--podinfo-dir \(CMDB_HOOK_PODINFO_DIR\): .*labels holds more than 1 MiB, the most the labels or annotations of a pod may take/,
    },
    {
      name: 'namespace',
      args: ['--namespace-file', file('namespace', `${'shop\n'.repeat(1000)}`)],
      env: { POD_NAMESPACE: undefined },
      refused: /--namespace-file \(CMDB_HOOK_NAMESPACE_FILE\): .*namespace holds more than 4 KiB, the most a namespace name may take/,
    },
  ];
  for (const { name, args, refused, env: extra } of cases) {
    // A flag of the case replaces the scene's own (a one-value flag given twice is an error of its own).
    const kept = flags.filter((flag, index) => !args.includes(flag) && !args.includes(flags[index - 1] ?? ''));
    const run = await runHook(['register', ...kept, ...args], { env: { ...env, ...extra } });
    assertRefused(run, refused, cmdb.requests.length);
    assert.ok(!run.stderr.includes('xxxx') && !run.stderr.includes('####'), `${name}: file content in the output`);
  }
});

/** A podinfo dir whose labels file holds `labels`. */
function podinfoWithLabels(labels: string): string {
  const podinfo = mkdtempSync(join(dir, 'podinfo-'));
  writeFileSync(join(podinfo, 'labels'), labels);
  writeFileSync(join(podinfo, 'annotations'), '');
  return podinfo;
}
