import { ConfigError } from '../errors.ts';
import type { OptionSpec } from '../settings/option.ts';
import { settingName } from '../settings/option.ts';
import type { SettingReader } from '../settings/read-settings.ts';
import { FILE_KINDS, readSettingFile } from '../settings/setting-files.ts';
import { parseCmdbUrl } from '../settings/url-settings.ts';
import { checkTlsFiles, type TlsFile } from './http-client/tls-files.ts';

// The hooks and the controller write the same records through the same backends.
const HOOKS = ['register', 'deregister', 'sidecar', 'controller', 'consume'];

/** The settings every backend shares: where the CMDB is, how to trust it and prove who we are, how long a try takes. */
export const CONNECTION_OPTIONS: readonly OptionSpec[] = [
  { flag: 'cmdb-url', type: 'string', commands: HOOKS, describe: 'Base URL of the CMDB API (http or https). Required, except for a hook\'s --dry-run (the controller\'s lists the records).' },
  { flag: 'cmdb-token-file', type: 'string', commands: HOOKS, describe: 'File holding the bearer token (re-read every run, whitespace trimmed).' },
  { flag: 'cmdb-ca-file', type: 'string', commands: HOOKS, describe: 'PEM file of the CA(s) that sign the CMDB certificate.' },
  { flag: 'cmdb-cert-file', type: 'string', commands: HOOKS, describe: 'PEM client certificate for mTLS (needs --cmdb-key-file).' },
  { flag: 'cmdb-key-file', type: 'string', commands: HOOKS, describe: 'PEM private key for mTLS (needs --cmdb-cert-file).' },
  { flag: 'request-timeout', type: 'string', commands: HOOKS, default: '10s', describe: 'Limit of one CMDB request attempt (never past --timeout).' },
];

/** Files are read here, once, so a missing one is a config error before anything is sent. */
export interface TlsMaterial {
  ca?: string;
  cert?: string;
  key?: string;
}

export interface CmdbConnection {
  /** Undefined only with --dry-run. */
  url: URL | undefined;
  /** Read when the backend is opened (a rotated Secret takes effect at the next run), never here. */
  tokenFile: string | undefined;
  tls: TlsMaterial;
  requestTimeoutMs: number;
}

export function readConnection(read: SettingReader, options: { command: string; urlRequired: boolean }): CmdbConnection {
  const text = read.text('cmdb-url')?.trim();
  // Only a hook's --dry-run goes without a CMDB: the controller's lists the records to compute its plan.
  const hookDryRun = options.command === 'register' || options.command === 'deregister' ? ', or use --dry-run' : '';
  if (!text && options.urlRequired) throw new ConfigError(`${settingName('cmdb-url')} is required: set it to the CMDB API base URL${hookDryRun}`);
  const url = text ? parseCmdbUrl(text) : undefined;
  return { url, tokenFile: read.text('cmdb-token-file'), tls: readTls(read, url), requestTimeoutMs: read.duration('request-timeout') };
}

function readTls(read: SettingReader, cmdbUrl: URL | undefined): TlsMaterial {
  const files = { ca: read.text('cmdb-ca-file'), cert: read.text('cmdb-cert-file'), key: read.text('cmdb-key-file') };
  if (Boolean(files.cert) !== Boolean(files.key)) {
    throw new ConfigError(`${settingName('cmdb-cert-file')} and ${settingName('cmdb-key-file')} go together for mTLS; set both or neither`);
  }
  const flags = { ca: 'cmdb-ca-file', cert: 'cmdb-cert-file', key: 'cmdb-key-file' } as const;
  const found: Partial<Record<keyof TlsMaterial, TlsFile>> = {};
  for (const part of ['ca', 'cert', 'key'] as const) {
    const path = files[part];
    if (!path) continue;
    if (cmdbUrl?.protocol === 'http:') throw new ConfigError(`${settingName(flags[part])} is set but ${settingName('cmdb-url')} is http; use an https URL`);
    found[part] = { flag: flags[part], path, text: readSettingFile(flags[part], path, part === 'key' ? FILE_KINDS.key : FILE_KINDS.certificates) };
  }
  checkTlsFiles(found);
  return Object.fromEntries(Object.entries(found).map(([part, file]) => [part, file.text]));
}

/** --cmdb-url without its trailing slashes, to append API paths to; `<cmdb-url>` for a --dry-run without one. */
export function baseUrlOf(url: URL | undefined): string {
  return url?.href.replace(/\/+$/, '') ?? '<cmdb-url>';
}
