/**
 * One httpGet probe of one container, run the way the kubelet's prober worker runs it (kubernetes
 * pkg/kubelet/prober/worker.go, prober_manager.go):
 * - a new container gets a fresh result: readiness starts as Failure, startup as Unknown;
 * - readiness (and liveness) are not probed until the container has started (its startup probe succeeded, or it has
 *   none); the first readiness probe runs right then (UpdatePodStatus triggers it for a started, unready container),
 *   then every periodSeconds (default 10); a startup probe runs from the container's start and stops on success;
 * - nothing during initialDelaySeconds; a result changes only after successThreshold (default 1) or failureThreshold
 *   (default 3) equal results in a row; timeoutSeconds (default 1) bounds each request (kubelet-http.ts);
 * - the probes go on while the pod terminates (only liveness and startup stop at deletion).
 * The kubelet's random delay before a first probe applies only just after the kubelet itself restarted: left out.
 * Only httpGet probes are modelled: the manifests use no other kind.
 */
import { probeSucceeded, type HttpGetAction, type KubeletAnswer } from './kubelet-http.ts';

export type ProbeType = 'startup' | 'readiness' | 'liveness';

export interface Probe {
  httpGet?: HttpGetAction;
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export type ProbeResult = 'success' | 'failure' | 'unknown';

export class ProbeWorker {
  result: ProbeResult;
  private stopped = false;
  private wake: (() => void) | undefined;
  private last: ProbeResult = 'unknown';
  private run = 0;
  readonly type: ProbeType;
  private readonly spec: Probe;
  private readonly send: (action: HttpGetAction, timeoutMs: number) => Promise<KubeletAnswer>;
  private readonly onResult: (result: ProbeResult, answer: KubeletAnswer) => void;

  constructor(
    type: ProbeType,
    spec: Probe,
    send: (action: HttpGetAction, timeoutMs: number) => Promise<KubeletAnswer>,
    onResult: (result: ProbeResult, answer: KubeletAnswer) => void,
  ) {
    if (!spec.httpGet) throw new Error(`only httpGet ${type} probes are modelled`);
    this.type = type;
    this.spec = spec;
    this.send = send;
    this.onResult = onResult;
    this.result = type === 'readiness' ? 'failure' : 'unknown';
  }

  /** Starts probing now (the container has started, or this is its startup probe). */
  start(): void {
    void this.loop(performance.now());
  }

  stop(): void {
    this.stopped = true;
    this.wake?.();
  }

  private async loop(startedAt: number): Promise<void> {
    const periodMs = (this.spec.periodSeconds ?? 10) * 1000;
    const delayMs = (this.spec.initialDelaySeconds ?? 0) * 1000;
    while (!this.stopped) {
      if (performance.now() - startedAt >= delayMs) {
        const answer = await this.send(this.spec.httpGet as HttpGetAction, (this.spec.timeoutSeconds ?? 1) * 1000);
        if (this.stopped) return;
        this.settle(probeSucceeded(answer) ? 'success' : 'failure', answer);
        if (this.type === 'startup' && this.result === 'success') return;
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, periodMs);
        this.wake = () => (clearTimeout(timer), resolve());
      });
    }
  }

  private settle(result: ProbeResult, answer: KubeletAnswer): void {
    this.run = result === this.last ? this.run + 1 : 1;
    this.last = result;
    const threshold = result === 'success' ? (this.spec.successThreshold ?? 1) : (this.spec.failureThreshold ?? 3);
    if (this.run < threshold) return;
    this.result = result;
    this.onResult(result, answer);
  }
}
