// https CMDBs with real certificates made by openssl: a private CA, mTLS, and a wrong CA (which is a
// configuration problem: reported at once, not retried until the deadline).
import assert from 'node:assert/strict';
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
