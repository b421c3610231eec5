import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs';
import { ConfigError } from '../errors.ts';
import { settingName } from './option.ts';

/** What a kind of setting file may hold: the most bytes, and what it holds, for the message that refuses more. */
export interface FileKind {
  readonly maxBytes: number;
  readonly holds: string;
}

const KiB = 1024;
const MiB = 1024 * KiB;

/**
 * The most each kind of file may hold. A file is read up to its limit and no further, so a wrong mount (a log, an
 * image, a whole volume's worth) costs neither time nor memory.
 */
export const FILE_KINDS = {
  // One header value: servers refuse request headers beyond 8 to 16 KiB (nginx 8k, Node 16 KiB).
  secret: { maxBytes: 8 * KiB, holds: 'a token or password' },
  // A namespace name is a DNS label of at most 63 characters.
  namespace: { maxBytes: 4 * KiB, holds: 'a namespace name' },
  // An RSA 16384-bit key in PEM is under 13 KiB.
  key: { maxBytes: 64 * KiB, holds: 'a private key' },
  // A whole public root bundle (Debian's ca-certificates.crt) is about 220 KB.
  certificates: { maxBytes: 1 * MiB, holds: 'PEM certificates' },
  // A ConfigMap holds at most 1 MiB.
  template: { maxBytes: 1 * MiB, holds: 'a request template' },
  // The API server caps a pod's annotations at 256 KiB in all; the kubelet's quoting can make the file larger.
  podinfo: { maxBytes: 1 * MiB, holds: 'the labels or annotations of a pod' },
} as const satisfies Record<string, FileKind>;

class TooLarge extends Error {}

/** Reads a file that a setting names; a failure is a config error naming the setting, never the content. */
export function readSettingFile(flag: string, path: string, kind: FileKind): string {
  try {
    return readRegularFile(path, kind);
  } catch (error) {
    if (error instanceof TooLarge) throw new ConfigError(`${settingName(flag)} ${error.message}`);
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new ConfigError(`${settingName(flag)} ${path} cannot be read (${reason}); mount the file or fix the path`);
  }
}

/**
 * Reads a file that may legitimately be absent (a downwardAPI item that is not projected, a fallback source):
 * undefined only when nothing is at the path. Anything else (a symlink loop, a directory, a FIFO, no permission, too
 * large) is a config error naming the setting: it is there, and it is wrong; read as absent, it would silently drop
 * the labels or the namespace.
 */
export function readFileIfPresent(flag: string, path: string, kind: FileKind, hint: string): string | undefined {
  try {
    return readRegularFile(path, kind);
  } catch (error) {
    if (error instanceof TooLarge) throw new ConfigError(`${settingName(flag)}: ${error.message}`);
    const reason = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    if (reason === 'ENOENT') return undefined;
    throw new ConfigError(`${settingName(flag)}: ${path} cannot be read (${reason}); ${hint}`);
  }
}

/**
 * Reads a regular file (a Secret or ConfigMap key is one, through symlinks), at most `kind.maxBytes`. A FIFO, socket
 * or device is refused: reading a FIFO that nobody writes would block the whole process, its deadline and watchdog
 * included. The size fstat reports is checked first, but not trusted (a file can grow while it is read): the read
 * itself stops one byte past the limit.
 */
function readRegularFile(path: string, kind: FileKind): string {
  const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stat = fstatSync(fd);
    if (!stat.isFile()) throw Object.assign(new Error(`${path} is not a regular file`), { code: 'not a regular file' });
    const tooLarge = () => new TooLarge(`${path} holds more than ${formatBytes(kind.maxBytes)}, the most ${kind.holds} may take; point the setting at the file that holds only that`);
    if (stat.size > kind.maxBytes) throw tooLarge();
    const buffer = Buffer.allocUnsafe(kind.maxBytes + 1);
    let length = 0;
    while (length < buffer.length) {
      const read = readSync(fd, buffer, length, buffer.length - length, null);
      if (read === 0) break;
      length += read;
    }
    if (length > kind.maxBytes) throw tooLarge();
    return buffer.toString('utf8', 0, length);
  } finally {
    closeSync(fd);
  }
}

function formatBytes(bytes: number): string {
  return bytes >= MiB ? `${bytes / MiB} MiB` : `${bytes / KiB} KiB`;
}
