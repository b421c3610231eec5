/**
 * Where the controller's connection to the Kubernetes API comes from, in this order:
 *   1. --kubeconfig <path>, when given;
 *   2. in a pod: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT set and a service account token mounted, as
 *      client-go's rest.InClusterConfig (https://<host>:<port>, the mounted ca.crt, the token re-read as it rotates);
 *   3. KUBECONFIG (a list, merged as kubectl does);
 *   4. ~/.kube/config.
 * Unlike @kubernetes/client-node's loadFromDefault (KUBECONFIG, ~/.kube/config, then in-cluster), a pod uses its own
 * service account even when the image happens to carry a kubeconfig. Parsing, exec plugins, auth providers and
 * client certificates are the library's: applyToHTTPSOptions runs per request, so an exec credential is renewed when
 * it expires and files are read again. Token files (in-cluster and a kubeconfig's `token-file`) are re-read here.
 *
 * A plain-http server is refused unless the cluster says insecure-skip-tls-verify, as the library refuses it; a
 * proxy-url is refused (this client speaks to the server directly). Nothing here logs or returns a token.
 */
import { accessSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';
import { isIPv6 } from 'node:net';
import type { RequestOptions } from 'node:https';
import { KubeConfig, type User } from '@kubernetes/client-node';
import { ConfigError } from '../../errors.ts';
import { settingName } from '../../settings/option.ts';
import { KubeconfigFileError, readKubeconfigs } from './kubeconfig-files.ts';
import { tokenFile, type TokenFile } from './token-file.ts';

export const SERVICE_ACCOUNT_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

export type ConnectionSource = 'flag' | 'in-cluster' | 'KUBECONFIG' | 'home';

/** What node:https needs for one request, besides the agent. */
export interface RequestSecurity {
  headers: Record<string, string>;
  ca?: RequestOptions['ca'];
  cert?: RequestOptions['cert'];
  key?: RequestOptions['key'];
  rejectUnauthorized?: boolean;
  servername?: string;
  /** user:password for basic auth. */
  auth?: string;
}

export interface KubeConnection {
  /** The API server's base URL, without a trailing slash. */
  readonly server: URL;
  readonly source: ConnectionSource;
  /** The context's namespace; in a pod, the pod's own. */
  readonly namespace: string | undefined;
  /** For a log line: where from, which server, context and user, and the kind of credentials. Never a secret. */
  describe(): Record<string, string>;
  /** Headers and TLS material for one request, fresh: rotated tokens, renewed exec credentials. */
  requestSecurity(): Promise<RequestSecurity>;
  /** The server answered 401: read rotating credentials again before the next request. */
  invalidate(): void;
}

export interface LoadConnectionOptions {
  /** The --kubeconfig flag's value. */
  kubeconfig?: string | undefined;
  env?: NodeJS.ProcessEnv;
  /** Where a pod's service account token, ca.crt and namespace are mounted. */
  serviceAccountDir?: string;
  /** How often a token file is read again (default 60 s, as client-go). */
  tokenRefreshMs?: number;
}

const exists = (path: string) => {
  try {
    accessSync(path);
    return true;
  } catch {
    return false;
  }
};

export function loadKubeConnection(options: LoadConnectionOptions = {}): KubeConnection {
  const env = options.env ?? process.env;
  const dir = options.serviceAccountDir ?? SERVICE_ACCOUNT_DIR;
  const refreshMs = options.tokenRefreshMs ?? 60_000;
  if (options.kubeconfig !== undefined) {
    if (!options.kubeconfig.trim()) throw new ConfigError(`${settingName('kubeconfig')} is empty; give the path of a kubeconfig file, or leave it unset to use the pod's service account`);
    return fromFiles('flag', [options.kubeconfig], refreshMs, `${settingName('kubeconfig')} ${options.kubeconfig}`, 'give the path of a readable kubeconfig file');
  }
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (host && port && exists(join(dir, 'token'))) return inCluster(host, port, dir, refreshMs);
  const list = (env.KUBECONFIG ?? '').split(delimiter).filter(Boolean);
  if (list.length > 0) return fromFiles('KUBECONFIG', list, refreshMs, `KUBECONFIG (${list.join(delimiter)})`, `fix KUBECONFIG, or give ${settingName('kubeconfig')} <path>`);
  const home = join(env.HOME || homedir(), '.kube', 'config');
  if (exists(home)) return fromFiles('home', [home], refreshMs, home, `fix it, or give ${settingName('kubeconfig')} <path>`);
  const pod = host && port ? `no service account token at ${join(dir, 'token')} (automountServiceAccountToken: false?)` : 'not in a pod (KUBERNETES_SERVICE_HOST is unset)';
  throw new ConfigError(`no Kubernetes API to connect to: ${pod}, KUBECONFIG is unset and ${home} does not exist; give ${settingName('kubeconfig')} <path>, or run in a pod with a service account token`);
}

function inCluster(host: string, port: string, dir: string, refreshMs: number): KubeConnection {
  const caFile = join(dir, 'ca.crt');
  if (!exists(caFile)) throw new ConfigError(`in a pod, but the service account's ${caFile} is missing; mount the service account token volume, or give ${settingName('kubeconfig')} <path>`);
  const server = `https://${isIPv6(host) ? `[${host}]` : host}:${port}`;
  const config = new KubeConfig();
  config.loadFromClusterAndUser({ name: 'in-cluster', server, caFile, skipTLSVerify: false }, { name: 'service-account' });
  let namespace: string | undefined;
  try {
    namespace = readFileSync(join(dir, 'namespace'), 'utf8').trim() || undefined;
  } catch {
    namespace = undefined;
  }
  return connectionOf('in-cluster', config, tokenFile(join(dir, 'token'), refreshMs), namespace, `KUBERNETES_SERVICE_HOST/PORT ${server}`);
}

function fromFiles(source: ConnectionSource, paths: string[], refreshMs: number, what: string, todo: string): KubeConnection {
  let loaded;
  try {
    loaded = readKubeconfigs(paths);
  } catch (error) {
    if (error instanceof KubeconfigFileError) throw new ConfigError(`${source === 'flag' ? settingName('kubeconfig') + ' ' : ''}${error.message}; ${todo}`);
    throw error;
  }
  const { config, tokenFiles } = loaded;
  const contextName = config.getCurrentContext();
  const context = contextName ? config.getContextObject(contextName) : null;
  if (!context) throw new ConfigError(`${what}: ${contextName ? `the current-context "${contextName}" is not defined` : 'no current-context is set'}; ${todo} (kubectl config use-context <name>)`);
  const cluster = config.getCurrentCluster();
  if (!cluster) throw new ConfigError(`${what}: context "${contextName}" names cluster "${context.cluster}", which is not defined; ${todo}`);
  const user = config.getCurrentUser();
  if (!user) throw new ConfigError(`${what}: context "${contextName}" names no defined user (it needs credentials to watch pods); ${todo}`);
  let server: URL;
  try {
    server = new URL(cluster.server);
  } catch {
    throw new ConfigError(`${what}: cluster "${cluster.name}" has server ${JSON.stringify(cluster.server)}, which is not a URL; ${todo}`);
  }
  if (server.protocol === 'http:' && !cluster.skipTLSVerify) {
    throw new ConfigError(`${what}: cluster "${cluster.name}" has a plain http server (${server.origin}): credentials would travel in clear text; use https, or set insecure-skip-tls-verify: true on that cluster if this is really meant`);
  }
  if (server.protocol !== 'https:' && server.protocol !== 'http:') throw new ConfigError(`${what}: cluster "${cluster.name}" has server ${server.origin}, which is not http(s); ${todo}`);
  if (cluster.proxyUrl) throw new ConfigError(`${what}: cluster "${cluster.name}" has a proxy-url, which this client does not support; reach the server directly, or ${todo}`);
  const file = tokenFiles.get(user.name);
  return connectionOf(source, config, file ? tokenFile(file, refreshMs) : undefined, context.namespace, what);
}

function authKind(user: User | null, token: TokenFile | undefined): string {
  if (token) return 'token-file';
  if (!user) return 'none';
  const provider = user.authProvider as { name?: string; config?: { exec?: unknown } } | null | undefined;
  if (user.exec || provider?.config?.exec) return 'exec';
  if (provider) return `auth-provider ${String(provider.name)}`;
  if (user.token) return 'token';
  if (user.certFile || user.certData) return 'client-certificate';
  if (user.username) return 'basic';
  return 'none';
}

function connectionOf(source: ConnectionSource, config: KubeConfig, token: TokenFile | undefined, namespace: string | undefined, from: string): KubeConnection {
  const cluster = config.getCurrentCluster();
  const server = new URL((cluster?.server ?? '').replace(/\/+$/, ''));
  return {
    server,
    source,
    namespace,
    describe: () => ({ source, from, server: server.origin, context: config.getCurrentContext(), user: config.getCurrentUser()?.name ?? '', auth: authKind(config.getCurrentUser(), token), namespace: namespace ?? '' }),
    async requestSecurity() {
      const options: RequestOptions = {};
      await config.applyToHTTPSOptions(options);
      const headers: Record<string, string> = {};
      for (const [name, value] of Object.entries(options.headers ?? {})) if (value !== undefined) headers[name] = String(value);
      if (token) headers.Authorization = `Bearer ${token.token()}`;
      return {
        headers,
        ...(options.ca ? { ca: options.ca } : {}),
        ...(options.cert ? { cert: options.cert } : {}),
        ...(options.key ? { key: options.key } : {}),
        ...(options.rejectUnauthorized === undefined ? {} : { rejectUnauthorized: options.rejectUnauthorized }),
        ...(options.servername ? { servername: options.servername } : {}),
        ...(options.auth ? { auth: options.auth } : {}),
      };
    },
    invalidate: () => token?.invalidate(),
  };
}
