/**
 * The pods the controller sees, by uid, and when it first saw each: the hook grace (hook-grace.ts) counts from that
 * first sighting, so a pod must keep its first-seen time across its own updates and lose it only when it is gone.
 */
import type { Pod } from './kube/pod-cache.ts';

export class SeenPods {
  private readonly byUid = new Map<string, Pod>();
  private readonly firstSeen = new Map<string, number>();

  get size(): number {
    return this.byUid.size;
  }

  get(uid: string | undefined): Pod | undefined {
    return uid === undefined ? undefined : this.byUid.get(uid);
  }

  has(uid: string): boolean {
    return this.byUid.has(uid);
  }

  all(): Pod[] {
    return [...this.byUid.values()];
  }

  firstSeenAt(uid: string | undefined): number | undefined {
    return uid === undefined ? undefined : this.firstSeen.get(uid);
  }

  /** Keeps these pods, noting when each was first seen. */
  see(pods: Pod[], now = Date.now()): void {
    for (const pod of pods) {
      const uid = pod.metadata?.uid;
      if (!uid) continue;
      this.byUid.set(uid, pod);
      if (!this.firstSeen.has(uid)) this.firstSeen.set(uid, now);
    }
  }

  /** A full list: these pods and no others; a pod seen before keeps its first-seen time. */
  replace(pods: Pod[]): void {
    this.byUid.clear();
    this.see(pods);
    for (const uid of this.firstSeen.keys()) if (!this.byUid.has(uid)) this.firstSeen.delete(uid);
  }

  forget(uid: string): void {
    this.byUid.delete(uid);
    this.firstSeen.delete(uid);
  }
}
