import type { Check } from './http-endpoints.ts';

/**
 * A main loop's liveness for /healthz: the loop beats once per round (a watch event or its timeout, a consumed
 * message or an idle poll), and the check fails once it has been silent longer than allowed. A blocked event loop
 * needs no heartbeat: the server cannot answer then, and the probe times out. This catches the other case, a loop
 * that awaits something that never settles while the process itself is fine.
 */
export interface Heartbeat {
  readonly beat: () => void;
  readonly check: () => Check;
}

/** `loop` names the loop in the reason; creating the heartbeat counts as its first beat. Monotonic clock. */
export function createHeartbeat(loop: string, maxSilenceMs: number): Heartbeat {
  let last = performance.now();
  return {
    beat: () => {
      last = performance.now();
    },
    check: () => {
      const silent = performance.now() - last;
      if (silent <= maxSilenceMs) return { ok: true };
      return { ok: false, reason: `${loop} last ran ${(silent / 1000).toFixed(1)} s ago (allowed ${(maxSilenceMs / 1000).toFixed(1)} s)` };
    },
  };
}
