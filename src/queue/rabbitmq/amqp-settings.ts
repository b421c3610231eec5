import { ConfigError } from '../../errors.ts';
import { settingName } from '../../settings/option.ts';
import { FILE_KINDS, readSettingFile } from '../../settings/setting-files.ts';

/** Where and how to log in to the broker, from --amqp-url, --amqp-password-file and --amqp-ca-file. */
export interface AmqpEndpoint {
  readonly protocol: 'amqp' | 'amqps';
  readonly hostname: string;
  readonly port: number;
  readonly vhost: string;
  readonly username: string;
  readonly password: string;
  /** PEM certificates that sign the broker's, for amqps; the system's roots when absent. */
  readonly ca: string | undefined;
  /** The URL without credentials, for messages and logs. */
  readonly shown: string;
}

export interface AmqpFiles {
  readonly url: string;
  readonly passwordFile?: string | undefined;
  readonly caFile?: string | undefined;
}

/**
 * Reads the broker's settings: the URL (`amqp[s]://user@host:port/vhost`) never carries the password, which would
 * show in the pod spec, `ps` and logs; it comes from a mounted file. Without a user or password file, the broker's
 * default guest login is tried (RabbitMQ accepts it from loopback only).
 */
export function readAmqpEndpoint(files: AmqpFiles): AmqpEndpoint {
  let url: URL;
  try {
    url = new URL(files.url);
  } catch {
    throw new ConfigError(`${settingName('amqp-url')} is not a URL: ${JSON.stringify(files.url.replace(/\/\/[^/?#]*@/, '//***@'))}; write it like amqp://cmdb-hook@rabbitmq:5672/vhost`);
  }
  if (url.protocol !== 'amqp:' && url.protocol !== 'amqps:') {
    throw new ConfigError(`${settingName('amqp-url')} must be an amqp or amqps URL, not ${url.protocol}`);
  }
  if (url.password) {
    throw new ConfigError(`${settingName('amqp-url')} must not hold a password; put it in a file and use ${settingName('amqp-password-file')}`);
  }
  if (/[\s\p{Cc}]/u.test(files.url)) throw new ConfigError(`${settingName('amqp-url')} holds a space or control character; remove it`);
  if (url.search || url.hash) throw new ConfigError(`${settingName('amqp-url')} carries a query or fragment; set its options with their own flags`);
  const protocol = url.protocol === 'amqps:' ? 'amqps' : 'amqp';
  // IANA: 5672 for AMQP, 5671 for AMQP over TLS.
  const port = url.port ? Number(url.port) : protocol === 'amqps' ? 5671 : 5672;
  if (port === 0) throw new ConfigError(`${settingName('amqp-url')} ${url.host} has port 0; give the port the broker listens on`);
  const path = url.pathname.slice(1);
  if (path.includes('/')) throw new ConfigError(`${settingName('amqp-url')} path ${JSON.stringify(url.pathname)} is more than a vhost; write a / inside the vhost's name as %2F`);
  const username = decodeURIComponent(url.username);
  // Trimmed as the CMDB's secret files are: a trailing newline from `echo` or an editor is no part of it.
  const password = files.passwordFile ? readSettingFile('amqp-password-file', files.passwordFile, FILE_KINDS.secret).trim() : '';
  if (files.passwordFile && !password) throw new ConfigError(`${settingName('amqp-password-file')} ${files.passwordFile} is empty; mount the file that holds the password`);
  if (password && !username) throw new ConfigError(`${settingName('amqp-url')} names no user for the password in ${settingName('amqp-password-file')}; write it like amqp://cmdb-hook@rabbitmq:5672/`);
  const ca = files.caFile ? readSettingFile('amqp-ca-file', files.caFile, FILE_KINDS.certificates) : undefined;
  if (ca !== undefined && protocol !== 'amqps') throw new ConfigError(`${settingName('amqp-ca-file')} is for TLS; use an amqps:// URL in ${settingName('amqp-url')} or remove it`);
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) {
    throw new ConfigError(`${settingName('amqp-ca-file')} ${files.caFile} holds no PEM certificate; mount the CA certificates that sign the broker's`);
  }
  return {
    protocol,
    hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
    port,
    // An empty path is the default vhost, as amqplib and the RabbitMQ CLI take it.
    vhost: path ? decodeURIComponent(path) : '/',
    username: username || 'guest',
    password: password || (username ? '' : 'guest'),
    ca,
    shown: `${protocol}://${url.username ? `${url.username}@` : ''}${url.host}${url.pathname || '/'}`,
  };
}
