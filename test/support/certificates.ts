/** Real certificates made with openssl: a CA, a server certificate for 127.0.0.1, and a client certificate. */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface Certificates {
  dir: string;
  /** Paths, as the agent's flags take them. */
  caFile: string;
  clientCertFile: string;
  clientKeyFile: string;
  otherCaFile: string;
  /** Contents, as the test server takes them. */
  ca: string;
  serverKey: string;
  serverCert: string;
}

export function makeCertificates(): Certificates {
  const dir = mkdtempSync(join(tmpdir(), 'cmdb-hook-certs-'));
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ca = (name: string) => openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.crt`);
  const leaf = (name: string, extensions: string) => {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    openssl('x509', '-req', '-in', `${name}.csr`, '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', `${name}.crt`, '-extfile', `${name}.ext`);
  };
  ca('ca');
  ca('other-ca');
  leaf('server', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n');
  leaf('client', 'extendedKeyUsage=clientAuth\n');
  const read = (file: string) => readFileSync(join(dir, file), 'utf8');
  return {
    dir,
    caFile: join(dir, 'ca.crt'),
    clientCertFile: join(dir, 'client.crt'),
    clientKeyFile: join(dir, 'client.key'),
    otherCaFile: join(dir, 'other-ca.crt'),
    ca: read('ca.crt'),
    serverKey: read('server.key'),
    serverCert: read('server.crt'),
  };
}

export interface ServerPair {
  key: string;
  cert: string;
}

/**
 * Server certificates a client must refuse: one signed by nobody (its own issuer, for 127.0.0.1), and one signed by
 * the CA of `certs` for another host name only (cmdb.elsewhere.test), served on 127.0.0.1.
 */
export function makeBadServerCertificates(certs: Certificates): { selfSigned: ServerPair; wrongName: ServerPair } {
  const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: certs.dir, stdio: 'pipe' });
  openssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
    '-keyout', 'self-signed.key', '-out', 'self-signed.crt');
  writeFileSync(join(certs.dir, 'wrong-name.ext'), 'subjectAltName=DNS:cmdb.elsewhere.test\nextendedKeyUsage=serverAuth\n');
  openssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=cmdb.elsewhere.test', '-keyout', 'wrong-name.key', '-out', 'wrong-name.csr');
  openssl('x509', '-req', '-in', 'wrong-name.csr', '-CA', 'ca.crt', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '2', '-out', 'wrong-name.crt', '-extfile', 'wrong-name.ext');
  const read = (file: string) => readFileSync(join(certs.dir, file), 'utf8');
  return { selfSigned: { key: read('self-signed.key'), cert: read('self-signed.crt') }, wrongName: { key: read('wrong-name.key'), cert: read('wrong-name.crt') } };
}
