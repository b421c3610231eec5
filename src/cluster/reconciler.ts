/**
 * The controller's memory and its two ways of acting:
 *   - a full pass lists the CMDB's records of the cluster, plans against every pod seen (plan.ts) and hands each
 *     action to the writer; it runs at start, every --resync, after a pod is deleted (once its orphan grace is over),
 *     and after a pod that registers itself turned ready (to write what its hook did not);
 *   - between passes, a pod event plans that pod alone against the records known (the last listing, moved on by the
 *     controller's own writes): create and update only, never retire, and not for pods that register themselves.
 * Nothing is written before the first listing succeeded: without it every record would look missing.
 */
import type { ControllerConfig } from '../config/controller-config.ts';
import type { Logger } from '../logger.ts';
import type { CmdbRecord } from '../pod/record.ts';
import { desiredRecords, FINISHED_PHASES, keptRecordIds, podPhases } from './desired-state.ts';
import { formatPlan } from './format-plan.ts';
import { ALL_NAMESPACES, type Pod, type PodHandler, type SyncInfo } from './kube/pod-cache.ts';
import { OrphanClock } from './orphan-clock.ts';
import { planAgainstKnown } from './known-records.ts';
import { KnownStore } from './known-store.ts';
import { liveOwnedIds, planPass, type Plan, type PlanAction } from './plan.ts';
import type { PassScheduler } from './pass-scheduler.ts';
import { HOOK_GRACE_MS, hookGraceLeft } from './hook-grace.ts';
import { registersItself } from './registers-itself.ts';
import { FirstPages } from './first-pages.ts';
import { logPassWarnings } from './pass-warnings.ts';
import { SeenPods } from './seen-pods.ts';

/** Where the plan's actions go: the work queue of the leader; none while another replica leads. */
export interface Writer {
  write(action: PlanAction, pod: Pod | undefined): void;
}

export interface ReconcilerOptions {
  config: Pick<ControllerConfig, 'cluster' | 'fields' | 'namespaces' | 'policy' | 'orphanGraceMs' | 'maxRetire' | 'dryRun' | 'once'>;
  listRecords(): Promise<CmdbRecord[]>;
  /** What the CMDB keeps of a record, with the id list() gives (CmdbBackend.comparable). */
  comparable?: (record: CmdbRecord) => CmdbRecord;
  log: Logger;
  /** --dry-run: where each pass's plan is printed. */
  print(text: string): void;
  /**
   * Told after each full pass (metrics, /readyz, a sink's inventory), with the ids of the records the pods keep
   * (desired-state.ts keptRecordIds: ready or not, of every pod that lives on).
   */
  onPass?(plan: Plan, records: number, kept: ReadonlySet<string>): void;
  /** Told of each pod seen, with whether every record it calls for is in the CMDB (the readiness gate). */
  onPodState?(pod: Pod, registered: boolean): void;
  onPodGone?(uid: string): void;
}

export class Reconciler implements PodHandler {
  private readonly options: ReconcilerOptions;
  private readonly pods = new SeenPods();
  /** The records of the last listing, moved on by the controller's own writes (known-store.ts). */
  private readonly known: KnownStore;
  private readonly clock = new OrphanClock();
  private info: SyncInfo = { complete: false, notListable: [ALL_NAMESPACES], relisted: [] };
  private listed = false;
  private writer: Writer | undefined;
  scheduler: PassScheduler | undefined;
  /** The first list's pages, planned as they come (first-pages.ts); not for --once or --dry-run, whose one pass is all. */
  private firstPages: FirstPages | undefined;

  constructor(options: ReconcilerOptions) {
    this.options = options;
    this.known = new KnownStore({ cluster: options.config.cluster, ...(options.comparable ? { comparable: options.comparable } : {}), sharedUid: (uid) => this.pods.get(uid)?.metadata?.uid });
    if (options.config.once || options.config.dryRun) return;
    this.firstPages = new FirstPages({
      listRecords: async () => {
        await this.known.relist(() => this.listScoped());
      },
      plan: (pod) => {
        for (const action of this.planPod(pod)) if (!this.leftToHook(action)) this.writer?.write(action, pod);
      },
      onFailure: (error) => options.log.debug({ err: error }, 'the records could not be listed while the pods were: the first full pass writes everything'),
    });
  }

  /** Lists the CMDB's records for the first list's pages (first-pages.ts), before any page comes. */
  start(): void {
    this.firstPages?.start();
  }

  private podsListedOnce = false;
  private markListed!: () => void;
  /** Resolves once every scope has its first list (or 403). */
  readonly podsSeen = new Promise<void>((resolve) => {
    this.markListed = resolve;
  });

  /** Whether every scope's pods have been listed once: a full pass needs them. */
  get podsListed(): boolean {
    return this.podsListedOnce;
  }

  /** Whether a full pass has run: the pods and the CMDB both listed (/readyz). */
  get ready(): boolean {
    return this.listed && this.podsListedOnce;
  }

  get podCount(): number {
    return this.pods.size;
  }

  get recordCount(): number {
    return this.known.liveCount();
  }

  /** Starts (or stops, with undefined) writing: the leader has a writer, a follower none. */
  setWriter(writer: Writer | undefined): void {
    this.writer = writer;
    this.firstPages?.lead(writer !== undefined);
  }

  page(pods: Pod[]): void {
    if (!this.firstPages) return;
    this.pods.see(pods);
    this.firstPages.add(pods);
  }

  synced(pods: Pod[], info: SyncInfo): void {
    this.pods.replace(pods);
    this.info = info;
    const first = !this.podsListedOnce;
    this.podsListedOnce = true;
    this.markListed();
    if (first) {
      this.scheduler?.within(0, 'pods listed');
      return;
    }
    // A relist: pods deleted while the watch was away are gone now; the pass after the grace retires their records.
    this.startOrphanClocks((uid) => !this.pods.has(uid));
    for (const pod of pods) this.podChanged(pod);
    this.scheduler?.within(this.options.config.orphanGraceMs + 1000, 'pods relisted');
  }

  added(pod: Pod): void {
    this.modified(pod);
  }

  modified(pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    this.pods.see([pod]);
    this.podChanged(pod);
    // A finished pod (evicted: Failed, its object kept) is as gone as a deleted one: the grace counts from now, and
    // the pass after it retires the records, rather than the next --resync starting the clock.
    if (FINISHED_PHASES.has(pod.status?.phase ?? '') && this.startOrphanClocks((each) => each === uid)) {
      this.scheduler?.within(this.options.config.orphanGraceMs + 1000, 'a pod finished');
    }
  }

  deleted(pod: Pod): void {
    const uid = pod.metadata?.uid;
    if (!uid) return;
    this.pods.forget(uid);
    this.options.onPodGone?.(uid);
    this.startOrphanClocks((each) => each === uid);
    this.scheduler?.within(this.options.config.orphanGraceMs + 1000, 'a pod was deleted');
  }

  /** One full pass: list the CMDB, plan, write (or print, with --dry-run). Throws when the CMDB could not be listed. */
  async fullPass(): Promise<Plan> {
    if (!this.podsListedOnce) throw new Error('a full pass before the pods were listed');
    // The first pass after pages planned as they came: their creates and updates are in the work queue already.
    const paged = (await this.firstPages?.done()) ?? false;
    this.firstPages = undefined;
    const records = await this.known.relist(() => this.listScoped());
    this.listed = true;
    const { config } = this.options;
    const pods = this.pods.all();
    const desired = desiredRecords({ pods, cluster: config.cluster, fields: config.fields, existing: liveOwnedIds(records, config.cluster), listedId: (record) => this.known.listedId(record), onProblem: (problem) => this.options.log.warn({ problem }, 'a pod\'s cmdb-hook.io/ annotations name what is not there') });
    const plan = planPass({
      cluster: config.cluster,
      policy: config.policy,
      desired,
      listed: records,
      podPhases: podPhases(pods),
      notListable: this.info.notListable,
      orphanGraceMs: config.orphanGraceMs,
      maxRetire: config.maxRetire,
      now: new Date(),
      // --once has seen nothing go missing before this pass: its grace counts from each record's observedAt.
      clock: config.once ? undefined : this.clock,
      ...(this.options.comparable ? { comparable: this.options.comparable } : {}),
    });
    if (config.dryRun) this.options.print(formatPlan(plan));
    else for (const action of plan.actions) if (!(paged && action.kind !== 'retire') && !this.leftToHook(action)) this.writer?.write(action, this.podOf(action.record));
    logPassWarnings(this.options.log, plan, this.info.notListable);
    this.scheduler?.within(this.clock.size > 0 ? config.orphanGraceMs + 1000 : Number.POSITIVE_INFINITY, 'records waiting for the orphan grace');
    // A pod whose records this pass writes is reported when the write lands (written()): reporting it now would
    // start a readiness gate's fail-open clock against a backlog the controller is about to clear.
    const pending = new Set(plan.actions.filter((action) => action.kind !== 'retire').map((action) => action.record.pod.uid));
    for (const pod of pods) if (!pending.has(pod.metadata?.uid ?? '')) this.reportPod(pod);
    this.options.onPass?.(plan, this.recordCount, keptRecordIds(pods));
    return plan;
  }

  private async listScoped(): Promise<CmdbRecord[]> {
    const all = await this.options.listRecords();
    // With --namespace, a record of another namespace is no business of this controller: its pod is not watched, so
    // its absence says nothing (and the half rule counts only the records this controller could retire).
    const scope = this.options.config.namespaces;
    return scope.length > 0 ? all.filter((record) => scope.includes(record.namespace)) : all;
  }

  /** A write the writer made: the records known move on with it. */
  written(action: PlanAction, removed: boolean): void {
    this.known.written(action, removed);
    const pod = this.podOf(action.record);
    if (pod) this.reportPod(pod);
  }

  /** A create the pod's own hook is making right now (hook-grace.ts); the pass after the grace writes it if not. */
  private leftToHook(action: PlanAction): boolean {
    const pod = this.podOf(action.record);
    if (action.kind !== 'create' || !pod) return false;
    const left = hookGraceLeft(pod, this.pods.firstSeenAt(pod.metadata?.uid), Date.now());
    if (left <= 0) return false;
    this.scheduler?.within(left + 1000, 'a pod that registers itself turned ready');
    return true;
  }

  /** The orphan grace counts from when the controller first saw the pod gone, not from the next pass. */
  private startOrphanClocks(gone: (uid: string) => boolean): boolean {
    return this.clock.startWhere(this.known.byId, gone);
  }

  private podOf(record: CmdbRecord): Pod | undefined {
    return this.pods.get(record.pod?.uid);
  }

  private desiredOf(pod: Pod): Map<string, CmdbRecord> {
    const { config } = this.options;
    // One pod at a time, so the known records are asked by id: building the set of every live id here cost
    // O(records) per pod event, O(pods x records) for a relist (npm run bench: 5.8 of 10.4 s of CPU at 10,000 pods).
    const existing = { has: (id: string) => this.known.isLive(id) };
    return desiredRecords({ pods: [pod], cluster: config.cluster, fields: config.fields, existing, listedId: (record) => this.known.listedId(record) });
  }

  /** One pod against the records known: its creates and updates, never a retirement. */
  private planPod(pod: Pod, desired = this.desiredOf(pod)): PlanAction[] {
    return planAgainstKnown(desired, this.known.byId, this.options.config.policy, this.options.comparable ?? ((record) => record));
  }

  private podChanged(pod: Pod): void {
    if (!this.listed || this.options.config.dryRun) return;
    const desired = this.desiredOf(pod);
    const actions = this.planPod(pod, desired);
    if (actions.length > 0 && registersItself(pod)) {
      // Its hook writes these in a moment; the pass after the grace lists the CMDB and writes what it did not.
      this.scheduler?.within(HOOK_GRACE_MS, 'a pod that registers itself changed');
    } else {
      for (const action of actions) this.writer?.write(action, pod);
    }
    this.reportPod(pod, desired);
  }

  private reportPod(pod: Pod, desired = this.desiredOf(pod)): void {
    if (!this.options.onPodState) return;
    const registered = desired.size > 0 && [...desired.values()].every((record) => this.known.holds(record));
    this.options.onPodState(pod, registered);
  }
}
