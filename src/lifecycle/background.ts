import { spawn } from 'node:child_process';
import type { Config } from '../config.ts';
import { currentProgram } from '../program.ts';
import type { Outcome, RunContext } from './context.ts';

/**
 * `register --background`: for clusters whose NetworkPolicy blocks the pod's traffic until postStart returns
 * (kubernetes #85966), the hook returns at once and a detached copy of this program does the waiting and the
 * registering under the same settings. The copy gets its own session and no inherited stdio: a child holding the
 * hook's pipes would keep the kubelet waiting (kubernetes #72089). It logs to --log-file, if given.
 */
export function startInBackground(config: Config, context: RunContext): Outcome {
  const program = currentProgram();
  const args = [...context.args.filter((arg) => arg !== '--background' && !arg.startsWith('--background=')), '--background=false'];
  const [file = process.execPath, ...prefix] = program.command;
  const child = spawn(file, [...prefix, ...args], { detached: true, stdio: 'ignore', env: context.env });
  child.unref();
  const logs = config.logFile ? `logs go to ${config.logFile}` : 'no --log-file, so its logs are discarded';
  context.log.info({ pid: child.pid }, 'registration continues in the background');
  return { summary: `registration continues in background process ${child.pid ?? '?'} (its own session; ${logs})` };
}
