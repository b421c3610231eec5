import { ConfigError } from '../errors.ts';

/** The release line the cluster side is built and tested on (package.json engines). */
const NEEDED_MAJOR = 26;

/**
 * `controller` and `consume` load libraries (the Kubernetes client's HTTP stack, the brokers' clients) that need a
 * recent Node: on Node 20 the bundle fails inside them at load time with a TypeError that reads like a bug in
 * cmdb-hook. The hooks and the sidecar have no such need, so only these two commands check.
 */
export function checkClusterRuntime(command: string, version: string = process.versions.node): void {
  const major = Number.parseInt(version, 10);
  if (major >= NEEDED_MAJOR) return;
  throw new ConfigError(`Node ${version} is too old for ${command}, which needs Node ${NEEDED_MAJOR} or later: run the single executable (it carries its own Node), or an image with Node ${NEEDED_MAJOR}`);
}
