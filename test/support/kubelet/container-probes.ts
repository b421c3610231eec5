/**
 * A container's probes and readiness as the kubelet's prober manager keeps them (prober_manager.go UpdatePodStatus):
 * a container without a startupProbe has started once Running (its postStart returned), one with it once the probe
 * succeeded; a started container is ready when it has no readinessProbe or the probe's result is success.
 * (A startupProbe that fails gets the container killed and restarted; the scenarios never need it, so it is loud.)
 */
import type { ContainerSpec } from './environment.ts';
import type { HttpGetAction, KubeletAnswer } from './kubelet-http.ts';
import { ProbeWorker } from './probe-worker.ts';

export interface ProbedContainer {
  spec: ContainerSpec;
  running: boolean;
  started: boolean;
  probes: ProbeWorker[];
}

/** Starts the container's probes now that it runs; `changed` is called whenever its readiness may have changed. */
export function startProbes(
  state: ProbedContainer,
  send: (action: HttpGetAction, timeoutMs: number) => Promise<KubeletAnswer>,
  record: (type: string, detail?: string) => void,
  changed: () => void,
): void {
  const { spec } = state;
  const readiness = spec.readinessProbe && new ProbeWorker('readiness', spec.readinessProbe, send, (result, answer) => {
    record(`readiness:${result}`, answer.error ?? String(answer.status));
    changed();
  });
  const onStarted = () => {
    state.started = true;
    record('container-started');
    readiness?.start();
    changed();
  };
  state.probes = readiness ? [readiness] : [];
  if (!spec.startupProbe) return onStarted();
  const startup = new ProbeWorker('startup', spec.startupProbe, send, (result, answer) => {
    record(`startup:${result}`, answer.error ?? String(answer.status));
    if (result === 'failure') throw new Error(`startup probe of ${spec.name} failed: the restart that follows is not modelled`);
    onStarted();
  });
  state.probes.push(startup);
  startup.start();
}

export function containerReady(state: ProbedContainer | undefined): boolean {
  const readiness = state?.probes.find((probe) => probe.type === 'readiness');
  return state !== undefined && state.running && state.started && (!readiness || readiness.result === 'success');
}
