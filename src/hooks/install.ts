import { createHash, randomBytes } from 'node:crypto';
import { chmod, copyFile, mkdir, open, readdir, rename, rm, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { ConfigError } from '../errors.ts';
import { currentProgram } from '../program.ts';
import type { Outcome, RunContext } from '../run-context.ts';

/** What travels with the program: the executable itself (as `cmdb-hook`), and hooks/ and lib/ when they exist. */
const BESIDE = ['hooks', 'lib'];

/**
 * `cmdb-hook install <dir>`: copies the running program, and what it needs beside it, into <dir>, so an init
 * container can put it on an emptyDir for an app image that does not carry it. Each file is written to a temporary
 * name and renamed, so a hook never sees half a binary; a file that is already identical is left alone.
 */
export async function install(targetDir: string, context: RunContext): Promise<Outcome> {
  const program = currentProgram();
  const copies: [string, string][] = [[program.file, join(targetDir, 'cmdb-hook')]];
  for (const name of BESIDE) {
    const from = join(program.dir, name);
    const files = await readdir(from, { recursive: true, withFileTypes: true }).catch(() => []);
    for (const entry of files.filter((file) => file.isFile())) {
      const relative = join(entry.parentPath.slice(from.length), entry.name);
      copies.push([join(from, relative), join(targetDir, name, relative)]);
    }
  }

  let written = 0;
  for (const [from, to] of copies) {
    if (await sameContent(from, to)) continue;
    await copyAtomically(from, to);
    written++;
    context.log.debug({ from, to }, 'installed');
  }
  const upToDate = copies.length - written;
  return { summary: `installed into ${targetDir}: ${written} file(s) written, ${upToDate} already up to date` };
}

async function copyAtomically(from: string, to: string): Promise<void> {
  // Not the pid alone: in an init container it is always 1, and two installers may share a volume.
  const temporary = `${to}.tmp-${process.pid}-${randomBytes(4).toString('hex')}`;
  try {
    await ensureDir(dirname(to));
    await copyFile(from, temporary);
    await chmod(temporary, ((await stat(from)).mode & 0o777) | 0o444);
    await rename(temporary, to);
  } catch (error) {
    await rm(temporary, { force: true }).catch(() => undefined);
    const reason = (error as NodeJS.ErrnoException).code ?? String(error);
    throw new ConfigError(`cannot write ${to} (${reason}); mount a writable volume (e.g. an emptyDir) at the target folder`);
  }
}

/**
 * mkdir -p, one level at a time. Node's own recursive mkdir spins forever when mkdir answers ENOENT although the
 * parent exists (seen under /proc: 31,564 identical syscalls in 5 s); this stops after one retry per level.
 */
async function ensureDir(path: string): Promise<void> {
  try {
    await mkdir(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'EEXIST') return;
    if (code !== 'ENOENT' || dirname(path) === path) throw error;
    await ensureDir(dirname(path));
    await mkdir(path).catch((again: NodeJS.ErrnoException) => {
      if (again.code !== 'EEXIST') throw again;
    });
  }
}

async function sameContent(a: string, b: string): Promise<boolean> {
  const [left, right] = await Promise.all([stat(a), stat(b).catch(() => undefined)]);
  if (!right || left.size !== right.size || (left.mode & 0o111) !== (right.mode & 0o111)) return false;
  const [x, y] = await Promise.all([digest(a), digest(b)]);
  return x === y;
}

/**
 * Read in pieces through one reused buffer: the single executable is over 100 MB, and init containers run under
 * memory limits. A read stream would allocate a new 64 KiB chunk per read, and V8 collects such outside-the-heap
 * memory late: hashing two copies of the executable that way peaked ~40 MiB above a bare --version.
 */
async function digest(path: string): Promise<string> {
  const hash = createHash('sha256');
  const file = await open(path, 'r');
  const buffer = Buffer.allocUnsafe(256 * 1024);
  try {
    for (let read = 1; read > 0; ) {
      ({ bytesRead: read } = await file.read(buffer, 0, buffer.length, null));
      hash.update(buffer.subarray(0, read));
    }
  } finally {
    await file.close();
  }
  return hash.digest('hex');
}
