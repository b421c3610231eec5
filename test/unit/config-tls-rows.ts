// The TLS rows of config.test.ts's message table (not a test file itself): --cmdb-ca-file, --cmdb-cert-file and
// --cmdb-key-file are read and checked while the config is built (src/cmdb/connection.ts, http-client/tls-files.ts,
// settings/setting-files.ts). Certificates are real ones made with openssl; keys are made with node:crypto.
import { generateKeyPairSync } from 'node:crypto';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after } from 'node:test';
import { makeCertificates } from '../support/certificates.ts';
import { flags, literal, type MessageRow } from './config-rows.ts';

const HTTPS = 'https://cmdb.test/api';
const CA = '--cmdb-ca-file \\(CMDB_HOOK_CMDB_CA_FILE\\)';
const CERT = '--cmdb-cert-file \\(CMDB_HOOK_CMDB_CERT_FILE\\)';
const KEY = '--cmdb-key-file \\(CMDB_HOOK_CMDB_KEY_FILE\\)';
const TOGETHER = new RegExp(`^${CERT} and ${KEY} go together for mTLS; set both or neither$`);

export function tlsRows(dir: string): MessageRow[] {
  const certificates = makeCertificates();
  after(() => rmSync(certificates.dir, { recursive: true, force: true }));
  const file = (name: string, text: string | Buffer) => {
    const path = join(dir, name);
    writeFileSync(path, text);
    return path;
  };
  const caPem = certificates.ca;
  const clientCert = certificates.clientCertFile;
  const clientKey = certificates.clientKeyFile;
  const keyText = readFileSync(clientKey, 'utf8');
  const folder = join(dir, 'a-folder');
  mkdirSync(folder, { recursive: true });
  const missing = join(dir, 'missing.crt');
  const noPem = file('no-pem.crt', 'this is not a certificate\n');
  const noEnd = file('no-end.crt', `${caPem}-----BEGIN CERTIFICATE-----\nMIIB\n`);
  const badBlock = file('bad-block.crt', `${caPem}# the next one is broken\n-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydA==\n-----END CERTIFICATE-----\n`);
  const hugeCa = file('huge.crt', Buffer.alloc(1024 * 1024 + 1, 'A'));
  const hugeKey = file('huge.key', `${keyText}${'#'.repeat(64 * 1024)}`);
  const noKey = file('no-key.key', 'not a key\n');
  const encrypted = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem', cipher: 'aes-256-cbc', passphrase: 'pass' } });
  const encryptedKey = file('encrypted.key', encrypted.privateKey);
  const otherKey = file('other.key', generateKeyPairSync('ec', { namedCurve: 'prime256v1', publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs8', format: 'pem' } }).privateKey);
  const at = (path: string) => literal(path);
  const mtls = (cert: string, key: string) => flags({ 'cmdb-url': HTTPS, 'cmdb-cert-file': cert, 'cmdb-key-file': key });

  return [
    { argv: flags({ 'cmdb-url': HTTPS, 'cmdb-cert-file': clientCert }), message: TOGETHER },
    { argv: flags({ 'cmdb-url': HTTPS, 'cmdb-key-file': clientKey }), message: TOGETHER },
    { command: 'deregister', argv: flags({ 'cmdb-url': HTTPS }), env: { CMDB_HOOK_CMDB_CERT_FILE: clientCert }, message: TOGETHER },
    { argv: flags({ 'cmdb-ca-file': certificates.caFile }), message: new RegExp(`^${CA} is set but --cmdb-url \\(CMDB_HOOK_CMDB_URL\\) is http; use an https URL$`) },
    { argv: flags({ 'cmdb-cert-file': clientCert, 'cmdb-key-file': clientKey }), message: new RegExp(`^${CERT} is set but --cmdb-url \\(CMDB_HOOK_CMDB_URL\\) is http; use an https URL$`) },
    { argv: flags({ 'cmdb-url': HTTPS, 'cmdb-ca-file': missing }), message: new RegExp(`^${CA} ${at(missing)} cannot be read \\(ENOENT\\); mount the file or fix the path$`) },
    { argv: flags({ 'cmdb-url': HTTPS, 'cmdb-ca-file': folder }), message: new RegExp(`^${CA} ${at(folder)} cannot be read \\(not a regular file\\); `) },
    { argv: flags({ 'cmdb-url': HTTPS, 'cmdb-ca-file': hugeCa }), message: new RegExp(`^${CA} ${at(hugeCa)} holds more than 1 MiB, the most PEM certificates may take; point the setting at the file that holds only that$`) },
    { argv: mtls(clientCert, hugeKey), message: new RegExp(`^${KEY} ${at(hugeKey)} holds more than 64 KiB, the most a private key may take; `) },
    { argv: flags({ 'cmdb-url': HTTPS, 'cmdb-ca-file': noPem }), message: new RegExp(`^${CA} ${at(noPem)} holds no PEM certificate \\(-----BEGIN CERTIFICATE-----\\); mount the CA certificates that sign the CMDB's certificate$`) },
    { argv: flags({ 'cmdb-url': HTTPS, 'cmdb-ca-file': noEnd }), message: new RegExp(`^${CA} ${at(noEnd)}: certificate 2 has no -----END CERTIFICATE----- line; mount the whole PEM file$`) },
    { argv: flags({ 'cmdb-url': HTTPS, 'cmdb-ca-file': badBlock }), message: new RegExp(`^${CA} ${at(badBlock)}: certificate 2 is not a valid PEM certificate; mount the CA certificates that sign the CMDB's certificate$`) },
    { argv: mtls(noPem, clientKey), message: new RegExp(`^${CERT} ${at(noPem)} holds no PEM certificate \\(-----BEGIN CERTIFICATE-----\\); mount the client certificate$`) },
    { argv: mtls(clientCert, noKey), message: new RegExp(`^${KEY} ${at(noKey)} holds no PEM private key; mount the key of the client certificate$`) },
    { argv: mtls(clientCert, encryptedKey), message: new RegExp(`^${KEY} ${at(encryptedKey)} holds an encrypted private key; mount it unencrypted \\(there is no passphrase setting\\)$`) },
    { argv: mtls(clientCert, otherKey), message: new RegExp(`^${KEY} ${at(otherKey)} is not the private key of the certificate in ${CERT} ${at(clientCert)}; mount the key the certificate was made for$`) },
  ];
}
