/** What happened in a pod, in order and when (performance.now()): the tests' view of the kubelet's steps. */
import { setTimeout as sleep } from 'node:timers/promises';

export interface PodEvent {
  at: number;
  container: string;
  type: string;
  detail?: string;
}

export class PodEventLog {
  readonly events: PodEvent[] = [];

  /** When the first event of this type happened (of this container), if it did. */
  at(type: string, container?: string): number | undefined {
    return this.find(type, container, 0)?.at;
  }

  /** Resolves once an event of this type has happened, so a test can act at that step (e.g. while a hook runs). */
  async until(type: string, container?: string, after = 0): Promise<number> {
    for (;;) {
      const event = this.find(type, container, after);
      if (event) return event.at;
      await sleep(5);
    }
  }

  protected record(container: string, type: string, detail?: string): void {
    this.events.push({ at: performance.now(), container, type, ...(detail === undefined ? {} : { detail }) });
  }

  private find(type: string, container: string | undefined, after: number): PodEvent | undefined {
    return this.events.find((event) => event.type === type && (!container || event.container === container) && event.at >= after);
  }
}
