import { spawn } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createBackend } from '../cmdb/factory.ts';
import type { Config } from '../config.ts';
import { readPodIdentity } from '../pod/identity.ts';
import { recordId } from '../pod/record.ts';
import { currentProgram } from '../program.ts';
import { introducePod, type Outcome, type RunContext } from './context.ts';
import { register } from './register.ts';

/**
 * `register --background`: for clusters whose NetworkPolicy blocks the pod's traffic until postStart returns
 * (kubernetes #85966), the hook returns at once and a detached copy of this program does the waiting and the
 * registering under the same settings. The copy gets its own session and no inherited stdio: a child holding the
 * hook's pipes would keep the kubelet waiting (kubernetes #72089). It logs to --log-file, if given.
 * Everything that can be checked without the network is checked here first, so a config error still exits 2.
 */
export async function startInBackground(config: Config, context: RunContext): Promise<Outcome> {
  const pod = readPodIdentity(config, context.env);
  introducePod(context, pod, config.container);
  createBackend(config);
  const program = currentProgram();
  const args = [...context.args.filter((arg) => arg !== '--background' && !arg.startsWith('--background=')), '--background=false'];
  const [file = process.execPath, ...prefix] = program.command;
  const child = spawn(file, [...prefix, ...args], { detached: true, stdio: 'ignore', env: context.env });
  const started = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!started || child.pid === undefined) {
    context.log.warn('the background process could not be started; registering in the foreground instead');
    return register(config, context);
  }
  child.unref();
  rememberBackgroundChild(recordId(pod.uid, config.container), child.pid, context);
  const logs = config.logFile ? `logs go to ${config.logFile}` : 'no --log-file, so its logs are discarded';
  context.log.info({ pid: child.pid }, 'registration continues in the background');
  return { summary: `registration continues in background process ${child.pid} (its own session; ${logs})` };
}

// A background register still waiting when preStop comes must not PUT after deregister's DELETE: deregister stops
// it first. The pid file lives in the container's temp folder; pids are checked against their command line
// before any signal, since a stale file may name a reused pid.
const pidFile = (id: string) => join(tmpdir(), `cmdb-hook-${id}.register.pid`);

function rememberBackgroundChild(id: string, pid: number, context: RunContext): void {
  try {
    writeFileSync(pidFile(id), String(pid));
  } catch (error) {
    context.log.warn({ reason: (error as NodeJS.ErrnoException).code }, 'cannot write the background pid file; deregister will not be able to stop it');
  }
}

/** Stops a background register of this container that is still running; true when there was one. */
export function stopBackgroundRegister(id: string, context: RunContext): boolean {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(id), 'utf8'));
    rmSync(pidFile(id), { force: true });
  } catch {
    return false;
  }
  try {
    const commandLine = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
    if (!commandLine.includes('register') || !commandLine.includes('--background=false')) return false;
    process.kill(pid, 'SIGTERM');
    context.log.info({ pid }, 'stopped the background register that was still waiting');
    return true;
  } catch {
    return false;
  }
}
