import { createPrivateKey, X509Certificate, type KeyObject } from 'node:crypto';
import { ConfigError } from '../../errors.ts';
import { settingName } from '../../settings/option.ts';

/** A TLS file as read for a setting: which setting, where, and what it holds. */
export interface TlsFile {
  flag: string;
  path: string;
  text: string;
}

/**
 * Checks the TLS files before anything is sent. A broken or mismatched file fails inside the TLS handshake, where
 * it cannot be told from a CMDB outage: it was retried until the deadline and ended as exit 5 (0 without --strict)
 * without naming the setting. Here it is a config error naming it (exit 2). node:crypto parses with the same OpenSSL
 * that the handshake uses; the bundle loads node:crypto anyway, so the checks cost only the parsing.
 */
export function checkTlsFiles(files: { ca?: TlsFile | undefined; cert?: TlsFile | undefined; key?: TlsFile | undefined }): void {
  if (files.ca) certificatesIn(files.ca, 'the CA certificates that sign the CMDB\'s certificate');
  if (!files.cert || !files.key) return;
  const [leaf] = certificatesIn(files.cert, 'the client certificate');
  const key = privateKeyIn(files.key);
  if (leaf && !leaf.checkPrivateKey(key)) {
    throw new ConfigError(
      `${settingName(files.key.flag)} ${files.key.path} is not the private key of the certificate in ${settingName(files.cert.flag)} ${files.cert.path}; mount the key the certificate was made for`,
    );
  }
}

const BEGIN = '-----BEGIN CERTIFICATE-----';
const END = '-----END CERTIFICATE-----';

/** Every PEM certificate of a file, parsed; text outside the blocks (comments of a bundle) is left alone. */
function certificatesIn(file: TlsFile, what: string): X509Certificate[] {
  const where = `${settingName(file.flag)} ${file.path}`;
  const certificates: X509Certificate[] = [];
  // indexOf rather than a RegExp: a file of many BEGIN lines and no END would make a lazy pattern scan it again
  // from each of them.
  for (let start = file.text.indexOf(BEGIN); start >= 0; start = file.text.indexOf(BEGIN, start + BEGIN.length)) {
    const end = file.text.indexOf(END, start + BEGIN.length);
    const number = certificates.length + 1;
    if (end < 0) throw new ConfigError(`${where}: certificate ${number} has no ${END} line; mount the whole PEM file`);
    try {
      certificates.push(new X509Certificate(file.text.slice(start, end + END.length)));
    } catch {
      throw new ConfigError(`${where}: certificate ${number} is not a valid PEM certificate; mount ${what}`);
    }
  }
  if (certificates.length === 0) throw new ConfigError(`${where} holds no PEM certificate (${BEGIN}); mount ${what}`);
  return certificates;
}

function privateKeyIn(file: TlsFile): KeyObject {
  try {
    return createPrivateKey(file.text);
  } catch {
    const where = `${settingName(file.flag)} ${file.path}`;
    // PKCS#8 "BEGIN ENCRYPTED PRIVATE KEY", or the traditional "Proc-Type: 4,ENCRYPTED" header; OpenSSL's own error
    // for a missing passphrase differs between versions.
    if (file.text.includes('ENCRYPTED')) {
      throw new ConfigError(`${where} holds an encrypted private key; mount it unencrypted (there is no passphrase setting)`);
    }
    throw new ConfigError(`${where} holds no PEM private key; mount the key of the client certificate`);
  }
}
