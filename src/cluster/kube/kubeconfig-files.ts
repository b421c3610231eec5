/**
 * Reads one or more kubeconfig files into one @kubernetes/client-node KubeConfig, as kubectl merges them
 * (docs: concepts/configuration/organize-cluster-access-kubeconfig, "Merging kubeconfig files"): the first file that
 * names a cluster, user or context wins, and so does the first `current-context`. (The library's own
 * loadFromDefault lets a later file's current-context win and throws on a name two files share.)
 *
 * A user's `token-file` is taken out before the library sees it: the library reads it once, at load, relative to
 * the working directory; here it is resolved against the kubeconfig's directory (as kubectl does) and handed back,
 * so the caller can re-read it when it rotates.
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, resolve } from 'node:path';
import { KubeConfig, loadYaml } from '@kubernetes/client-node';

export interface LoadedKubeconfig {
  config: KubeConfig;
  /** Absolute token-file path by user name. */
  tokenFiles: Map<string, string>;
}

/** Why a file could not be used: a short reason, never the file's content. */
export class KubeconfigFileError extends Error {
  readonly path: string;

  constructor(path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'KubeconfigFileError';
    this.path = path;
  }
}

interface RawUser {
  name?: unknown;
  user?: Record<string, unknown> | null;
}

function readOne(path: string): LoadedKubeconfig {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new KubeconfigFileError(path, code === 'ENOENT' ? 'does not exist (ENOENT)' : `cannot be read (${code})`);
  }
  let raw: { users?: RawUser[] } | undefined;
  try {
    raw = loadYaml<{ users?: RawUser[] } | undefined>(text);
  } catch (error) {
    throw new KubeconfigFileError(path, `is not YAML (${(error as Error).message.split('\n', 1)[0] ?? ''})`);
  }
  if (typeof raw !== 'object' || raw === null) throw new KubeconfigFileError(path, 'is not a kubeconfig (no clusters, users or contexts)');
  const tokenFiles = new Map<string, string>();
  for (const entry of Array.isArray(raw.users) ? raw.users : []) {
    const file = entry.user?.['token-file'];
    if (!entry.user || typeof file !== 'string' || typeof entry.name !== 'string') continue;
    delete entry.user['token-file'];
    // A token given inline wins over the file, as in client-go.
    if (!entry.user.token) tokenFiles.set(entry.name, isAbsolute(file) ? file : resolve(dirname(path), file));
  }
  const config = new KubeConfig();
  try {
    config.loadFromString(JSON.stringify(raw));
  } catch (error) {
    throw new KubeconfigFileError(path, `is not a valid kubeconfig (${(error as Error).message})`);
  }
  config.makePathsAbsolute(dirname(resolve(path)));
  return { config, tokenFiles };
}

/**
 * Loads the files in order and merges them. Missing files are skipped, as kubectl does with a KUBECONFIG list; when
 * none exists, that is an error.
 */
export function readKubeconfigs(paths: readonly string[]): LoadedKubeconfig {
  let merged: LoadedKubeconfig | undefined;
  for (const path of paths) {
    let next: LoadedKubeconfig;
    try {
      next = readOne(path);
    } catch (error) {
      if (error instanceof KubeconfigFileError && error.message.endsWith('(ENOENT)')) continue;
      throw error;
    }
    if (!merged) {
      merged = next;
      continue;
    }
    const { config } = merged;
    for (const cluster of next.config.getClusters()) if (!config.getCluster(cluster.name)) config.addCluster(cluster);
    for (const user of next.config.getUsers()) {
      if (config.getUser(user.name)) continue;
      config.addUser(user);
      const file = next.tokenFiles.get(user.name);
      if (file) merged.tokenFiles.set(user.name, file);
    }
    for (const context of next.config.getContexts()) if (!config.getContextObject(context.name)) config.addContext(context);
    if (!config.getCurrentContext()) config.setCurrentContext(next.config.getCurrentContext());
  }
  if (!merged) throw new KubeconfigFileError(paths.join(', '), paths.length > 1 ? 'none of these files exists' : 'does not exist (ENOENT)');
  return merged;
}
