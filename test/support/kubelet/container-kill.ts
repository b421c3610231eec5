/**
 * A container's end, as the kubelet's killContainer runs it (kuberuntime_container.go, kuberuntime_termination_order.go):
 * preStop runs only when the grace period is above 0 (PR #49449) and may use all of it; a native sidecar in a pod
 * that terminates runs its preStop at once too, but its SIGTERM waits until every app container and every sidecar
 * declared after it has exited (its turn, bounded by what is left of the grace period); SIGTERM then leaves the rest
 * of the grace period (at least 2 s, minimumGracePeriodInSeconds) before SIGKILL. A hook still running past the grace
 * period goes with its container.
 */
import type { ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { runHandler, type HookContext } from './container-hooks.ts';
import type { ContainerSpec } from './environment.ts';
import { TIMED_OUT, within } from './within.ts';

const MINIMUM_GRACE_MS = 2000;

/** What the kill needs of a container. */
export interface KillableContainer {
  spec: ContainerSpec;
  process?: ChildProcess;
  exited?: Promise<void>;
  hooks: Set<ChildProcess>;
}

/** Kills the container under `graceMs`; a native sidecar's SIGTERM first waits for `turnAfter` to have exited. */
export async function killContainer(context: HookContext, state: KillableContainer, reason: string, graceMs: number, turnAfter: KillableContainer[] = []): Promise<void> {
  const { name } = state.spec;
  const started = performance.now();
  const left = () => Math.max(graceMs - (performance.now() - started), 0);
  context.record(name, 'killing', reason);
  const preStop = state.spec.lifecycle?.preStop;
  if (preStop && graceMs > 0) {
    // executePreStopHook waits for the hook or the grace period, whichever comes first. (The kubelet counts the
    // time it took in whole seconds, rounding down, so a real node may leave up to 1 s more: this is stricter.)
    await within(runHandler(context, state.spec, preStop, 'preStop'), graceMs);
  }
  if (turnAfter.length > 0 && graceMs > 0) await within(Promise.all(turnAfter.map((other) => other.exited ?? Promise.resolve())), left());
  context.record(name, 'SIGTERM');
  state.process?.kill('SIGTERM');
  const exitedInTime = (await within(state.exited ?? Promise.resolve(), Math.max(left(), MINIMUM_GRACE_MS))) !== TIMED_OUT;
  if (!exitedInTime) {
    context.record(name, 'SIGKILL');
    state.process?.kill('SIGKILL');
    await state.exited;
  }
  await Promise.all([...state.hooks].map((hook) => (hook.kill('SIGKILL'), once(hook, 'close'))));
}
