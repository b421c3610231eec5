/**
 * A bearer token kept in a file that something else rotates: the service account token the kubelet projects into
 * a pod (renewed at 80% of its life, about hourly with the default one-hour tokens), or a kubeconfig user's
 * `token-file`. Read again when the last read is older than `refreshMs` (client-go's cachedFileTokenSource re-reads
 * every minute; @kubernetes/client-node's FileAuth does the same for the in-cluster token but reads a kubeconfig
 * `token-file` only once, at load), and at once after the server said 401. A failed re-read keeps the token it had:
 * the kubelet swaps the file by renaming a symlink, and a read in that instant may fail.
 */
import { readFileSync } from 'node:fs';

export interface TokenFile {
  readonly path: string;
  /** The token, whitespace trimmed; throws (with the path, never the content) when the file was never readable. */
  token(): string;
  /** The server refused the token: read the file again before the next request. */
  invalidate(): void;
}

export function tokenFile(path: string, refreshMs = 60_000): TokenFile {
  let token: string | undefined;
  let readAt = Number.NEGATIVE_INFINITY;
  return {
    path,
    token() {
      if (token !== undefined && performance.now() - readAt < refreshMs) return token;
      try {
        const text = readFileSync(path, 'utf8').trim();
        if (text) token = text;
      } catch (error) {
        if (token === undefined) throw new Error(`cannot read the token file ${path}: ${(error as NodeJS.ErrnoException).code ?? String(error)}`, { cause: error });
      }
      readAt = performance.now();
      if (token === undefined) throw new Error(`the token file ${path} is empty`);
      return token;
    },
    invalidate() {
      readAt = Number.NEGATIVE_INFINITY;
    },
  };
}
