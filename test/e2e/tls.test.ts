// https CMDBs with real certificates made by openssl: a private CA, mTLS, and a wrong CA (which is a
// configuration problem: reported at once, not retried until the deadline).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeCertificates } from '../support/certificates.ts';
import { runHook } from '../support/run-hook.ts';
import { scene } from '../support/scene.ts';

const certs = makeCertificates();

test('https with --cmdb-ca-file: registered', async (t) => {
  const { cmdb, env, flags } = await scene(t, { cmdb: { tls: { key: certs.serverKey, cert: certs.serverCert } } });
  assert.ok(cmdb.url.startsWith('https://127.0.0.1:'));
  const run = await runHook(['register', ...flags, '--cmdb-ca-file', certs.caFile], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(cmdb.records.size, 1);
});

test('a CMDB certificate from another CA: TLS failure reported at once, exit 0 (4 with --strict)', async (t) => {
  const { cmdb, env, flags } = await scene(t, { cmdb: { tls: { key: certs.serverKey, cert: certs.serverCert } } });
  const args = ['register', ...flags, '--cmdb-ca-file', certs.otherCaFile, '--timeout', '20s'];
  const lenient = await runHook(args, { env });
  assert.equal(lenient.code, 0);
  assert.match(lenient.summary, /TLS failed .*check --cmdb-ca-file/);
  const strict = await runHook([...args, '--strict'], { env });
  assert.equal(strict.code, 4);
  assert.ok(strict.durationMs < 5000, `not retried until the deadline (${Math.round(strict.durationMs)}ms)`);
  assert.equal(cmdb.records.size, 0);
});

test('mTLS: registered with the client certificate, refused without it', async (t) => {
  const { cmdb, env, flags } = await scene(t, { cmdb: { tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca } } });
  const withCert = await runHook(['register', ...flags, '--cmdb-ca-file', certs.caFile, '--cmdb-cert-file', certs.clientCertFile, '--cmdb-key-file', certs.clientKeyFile], { env });
  assert.equal(withCert.code, 0, withCert.stderr);
  assert.equal(cmdb.records.size, 1);
  const withoutCert = await runHook(['deregister', ...flags, '--cmdb-ca-file', certs.caFile, '--strict', '--timeout', '5s'], { env });
  assert.equal(withoutCert.code, 4);
  assert.match(withoutCert.summary, /TLS failed \(ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED\)/);
  assert.ok(withoutCert.durationMs < 4000, `not retried until the deadline (${Math.round(withoutCert.durationMs)}ms)`);
  assert.equal(cmdb.records.size, 1, 'the record was not touched');
});

// A broken or mismatched TLS file fails inside the handshake, where it looks like a CMDB outage: it was retried until
// the deadline (exit 5 with --strict) without naming the setting. It is a config error, found before any request.
test('a garbage, broken, encrypted or mismatched --cmdb-ca-file, --cmdb-cert-file or --cmdb-key-file: exit 2 naming it, nothing sent', async (t) => {
  const { cmdb, env, flags } = await scene(t, { cmdb: { tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca } } });
  const file = (name: string, text: string) => {
    const path = join(certs.dir, name);
    writeFileSync(path, text);
    return path;
  };
  const encryptedKey = join(certs.dir, 'client-encrypted.key');
  execFileSync('openssl', ['pkey', '-in', certs.clientKeyFile, '-aes256', '-passout', 'pass:secret', '-out', encryptedKey], { stdio: 'pipe' });
  const brokenPem = certs.ca.replace(/\n[A-Za-z0-9+/]{20}/, '\n!!!!');
  const mtls = (cert: string, key: string) => ['--cmdb-ca-file', certs.caFile, '--cmdb-cert-file', cert, '--cmdb-key-file', key];
  const cases: [string[], RegExp][] = [
    [['--cmdb-ca-file', file('garbage-ca.pem', 'not a certificate\n')], /--cmdb-ca-file \(CMDB_HOOK_CMDB_CA_FILE\) .*garbage-ca\.pem holds no PEM certificate/],
    [['--cmdb-ca-file', file('second-broken-ca.pem', `# a bundle\n${certs.ca}${brokenPem}`)], /--cmdb-ca-file .*second-broken-ca\.pem: certificate 2 is not a valid PEM certificate/],
    [['--cmdb-ca-file', file('cut-ca.pem', certs.ca.slice(0, 300))], /--cmdb-ca-file .*cut-ca\.pem: certificate 1 has no -----END CERTIFICATE----- line/],
    [mtls(file('garbage-client.crt', 'garbage'), certs.clientKeyFile), /--cmdb-cert-file \(CMDB_HOOK_CMDB_CERT_FILE\) .* holds no PEM certificate/],
    [mtls(certs.clientCertFile, file('garbage-client.key', '-----BEGIN PRIVATE KEY-----\ngarbage\n-----END PRIVATE KEY-----\n')), /--cmdb-key-file \(CMDB_HOOK_CMDB_KEY_FILE\) .* holds no PEM private key/],
    [mtls(certs.clientCertFile, encryptedKey), /--cmdb-key-file .* holds an encrypted private key; mount it unencrypted/],
    [mtls(certs.clientCertFile, join(certs.dir, 'server.key')), /--cmdb-key-file .*server\.key is not the private key of the certificate in --cmdb-cert-file .*client\.crt/],
  ];
  for (const [args, refused] of cases) {
    const run = await runHook(['register', ...flags, ...args, '--timeout', '5s', '--strict'], { env });
    assert.equal(run.code, 2, run.stderr);
    assert.match(run.summary, refused);
    assert.equal(run.stderr.trim().split('\n').length, 1, 'one plain line');
  }
  assert.equal(cmdb.requests.length, 0, 'nothing was sent');
});

test('a CA bundle with comments and several certificates, and a key file that also holds the certificate, are fine', async (t) => {
  const { cmdb, env, flags } = await scene(t, { cmdb: { tls: { key: certs.serverKey, cert: certs.serverCert, ca: certs.ca } } });
  const bundle = join(certs.dir, 'bundle.pem');
  writeFileSync(bundle, `# other CA\n${readFileSync(certs.otherCaFile, 'utf8')}\n# ours\n${certs.ca}`);
  const combined = join(certs.dir, 'client-combined.pem');
  writeFileSync(combined, `${readFileSync(certs.clientCertFile, 'utf8')}${readFileSync(certs.clientKeyFile, 'utf8')}`);
  const run = await runHook(['register', ...flags, '--cmdb-ca-file', bundle, '--cmdb-cert-file', combined, '--cmdb-key-file', combined, '--strict'], { env });
  assert.equal(run.code, 0, run.stderr);
  assert.equal(cmdb.records.size, 1);
});
