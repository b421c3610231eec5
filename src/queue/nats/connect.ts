/**
 * The connection to NATS. The token or creds file and the CA file are read as files, never taken as values: the
 * token and creds are read again at every (re)connect through the client's authenticator callbacks, and the client
 * loads `caFile` itself at every TLS connect, so a rotated Secret is picked up without a restart. Each file is read
 * once up front too, so a wrong path is a config error naming the setting before any network traffic.
 *
 * The first connect is retried here, attempt by attempt, until the caller's signal aborts (the client's own
 * `waitOnFirstConnect` cannot be cancelled); once connected, the client reconnects by itself, forever.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { connect, credsAuthenticator, tokenAuthenticator, type Authenticator, type NatsConnection } from '@nats-io/transport-node';
import { ConfigError } from '../../errors.ts';
import { settingName } from '../../settings/option.ts';
import { FILE_KINDS, readSettingFile } from '../../settings/setting-files.ts';
import { BrokerUnavailableError } from '../broker-errors.ts';
import { serversOf, type NatsOptions } from './nats-options.ts';

type ConnectOptions = Pick<NatsOptions, 'url' | 'tokenFile' | 'credsFile' | 'caFile' | 'logger'>;

/** The credential a connection presents, and the setting to name when the server refuses it. */
function authOf(options: ConnectOptions): { authenticator?: Authenticator; flag?: string } {
  const { tokenFile, credsFile } = options;
  if (tokenFile && credsFile) throw new ConfigError(`${settingName('nats-token-file')} and ${settingName('nats-creds-file')} were both given; give one`);
  if (tokenFile) {
    const read = () => readSettingFile('nats-token-file', tokenFile, FILE_KINDS.secret).trim();
    if (!read()) throw new ConfigError(`${settingName('nats-token-file')} ${tokenFile} is empty; it must hold the NATS token`);
    return { authenticator: tokenAuthenticator(read), flag: 'nats-token-file' };
  }
  if (credsFile) {
    // A creds file holds a user JWT and an nkey seed (a private key), about 1 KiB.
    const read = () => new TextEncoder().encode(readSettingFile('nats-creds-file', credsFile, FILE_KINDS.key));
    read();
    return { authenticator: credsAuthenticator(read), flag: 'nats-creds-file' };
  }
  return {};
}

/** Node's code for a server certificate it does not trust: a setting to fix, not a network hiccup to retry. */
function certificateProblem(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | undefined)?.code;
  return typeof code === 'string' && /CERT|SELF_SIGNED|UNABLE_TO_(VERIFY|GET_ISSUER)/.test(code) ? code : undefined;
}

const isAuthError = (error: unknown) => error instanceof Error && (error.name === 'AuthorizationError' || /authorization violation|authentication/i.test(error.message));

export async function connectNats(options: ConnectOptions, signal: AbortSignal): Promise<NatsConnection> {
  const servers = serversOf(options.url);
  const { authenticator, flag } = authOf(options);
  if (options.caFile) readSettingFile('nats-ca-file', options.caFile, FILE_KINDS.certificates);
  let delay = 250;
  for (;;) {
    signal.throwIfAborted();
    try {
      const connection = await connect({
        servers,
        name: 'cmdb-hook',
        ...(authenticator ? { authenticator } : {}),
        ...(options.caFile ? { tls: { caFile: options.caFile } } : {}),
        timeout: 5000,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 1000,
        // A rotated token reaches the file later than the server (a Secret update takes up to a minute to appear in
        // a pod): keep reconnecting, re-reading the file each time, rather than give up after two refusals.
        ignoreAuthErrorAbort: true,
      });
      options.logger.info({ servers: servers.join(',') }, 'connected to NATS');
      void watchStatus(connection, options, flag);
      return connection;
    } catch (error) {
      if (isAuthError(error)) {
        const where = flag ? settingName(flag) : `${settingName('nats-token-file')} or ${settingName('nats-creds-file')}`;
        throw new ConfigError(
          flag
            ? `the NATS server at ${servers.join(',')} refused the credential in ${where} (${(error as Error).message}); check the file it names`
            : `the NATS server at ${servers.join(',')} requires a credential (${(error as Error).message}); set ${where}`,
          { cause: error },
        );
      }
      if (error instanceof ConfigError) throw error;
      const tlsCode = certificateProblem(error);
      if (tlsCode) {
        throw new ConfigError(
          options.caFile
            ? `the NATS server's certificate at ${servers.join(',')} is not trusted by the CA in ${settingName('nats-ca-file')} ${options.caFile} (${tlsCode}); give the CA that signed it`
            : `the NATS server's certificate at ${servers.join(',')} is not trusted (${tlsCode}); set ${settingName('nats-ca-file')} to the CA that signed it`,
          { cause: error },
        );
      }
      options.logger.warn({ servers: servers.join(','), err: (error as Error).message, retryInMs: delay }, 'NATS not reachable yet; retrying');
      try {
        await sleep(delay, undefined, { signal });
      } catch {
        throw new BrokerUnavailableError(`NATS at ${servers.join(',')} could not be reached before the deadline: ${(error as Error).message}`, { cause: error });
      }
      delay = Math.min(delay * 2, 5000);
    }
  }
}

/** One log line per disconnect, reconnect and refused credential (once per outage), none per attempt. */
async function watchStatus(connection: NatsConnection, options: ConnectOptions, flag: string | undefined): Promise<void> {
  const { logger } = options;
  let refusedLogged = false;
  for await (const status of connection.status()) {
    if (status.type === 'disconnect') logger.warn({ server: status.server }, 'disconnected from NATS; reconnecting');
    else if (status.type === 'reconnect') {
      refusedLogged = false;
      logger.info({ server: status.server }, 'reconnected to NATS');
    } else if (status.type === 'error' && !refusedLogged) {
      refusedLogged = isAuthError(status.error);
      const hint = refusedLogged ? `; the server refused the credential: check the file ${flag ? settingName(flag) : 'a credential setting'} names` : '';
      logger.warn({ err: status.error.message }, `NATS reported an error${hint}`);
    }
  }
}
