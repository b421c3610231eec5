import { spawn } from 'node:child_process';
import { currentProgram } from '../program.ts';
import type { Outcome, RunContext } from '../run-context.ts';
import type { Hook } from './open-hook.ts';
import { register } from './register.ts';
import { formatStart, ownStart, RUN_START_ENV } from './run-markers.ts';

/**
 * `register --background`: for clusters whose NetworkPolicy blocks the pod's traffic until postStart returns
 * (kubernetes #85966), the hook returns at once and a detached copy of this program does the waiting and the
 * registering under the same settings. The copy gets its own session and no inherited stdio: a child holding the
 * hook's pipes would keep the kubelet waiting (kubernetes #72089). It logs to --log-file, if given.
 * The hook was opened before (pod identity, backend, its files): a config error still exits 2.
 */
export async function startInBackground(hook: Hook, context: RunContext): Promise<Outcome> {
  const { config } = hook;
  const program = currentProgram();
  const args = [...context.args.filter((arg) => arg !== '--background' && !arg.startsWith('--background=')), '--background=false'];
  const [file = process.execPath, ...prefix] = program.command;
  // The copy counts as started when this hook did: a deregister that began in between must win over it too.
  const start = ownStart();
  const env = start ? { ...context.env, [RUN_START_ENV]: formatStart(start) } : context.env;
  const child = spawn(file, [...prefix, ...args], { detached: true, stdio: 'ignore', env });
  const started = await new Promise<boolean>((resolve) => {
    child.once('spawn', () => resolve(true));
    child.once('error', () => resolve(false));
  });
  if (!started || child.pid === undefined) {
    context.log.warn('the background process could not be started; registering in the foreground instead');
    return register(hook, context);
  }
  child.unref();
  const logs = config.logFile ? `logs go to ${config.logFile}` : 'no --log-file, so its logs are discarded';
  context.log.info({ pid: child.pid }, 'registration continues in the background');
  return { summary: `registration continues in background process ${child.pid} (its own session; ${logs})` };
}
