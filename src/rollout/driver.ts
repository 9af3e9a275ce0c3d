/**
 * The driver of `mesh-release rollout`, `promote` and `abort`: takes a release stage by stage through the API
 * (the actions of `cli/transition.ts`, in the runbook's order), waits until each stage is live, has it analyzed
 * (`analysis.ts`), and rolls back on its own, one stage at a time down to the first, when the analysis fails or a
 * wait times out. Holds the release's Lease while it runs (`lease.ts`) and records where the release stands
 * (`state-record.ts`), so a driver killed mid-way resumes where it was.
 *
 * Every transition, forward and back, was checked by the safety check when the plan was read (`cli/stages.ts`).
 * Before each step it performs (forward, back, resumed, a first stage over an earlier release's live stage, forced),
 * the driver checks it again, against what is live: it lists the live counterparts of the target stage's objects and
 * of the stage the cluster is believed to be at, and the releases' other live objects (`live-objects.ts`), and runs
 * `SafetyCheck`'s rules on the target over them (`checkLive`): an error refuses the step before anything of it is
 * applied. The guard then checks the stage of the routing objects (`mesh-release.io/stage`); over a live stage the
 * plan does not know, the first stage also deletes what the releases have live and it does not have, so no command
 * leaves the cluster in a state the plan does not know.
 */
import { RolloutHooks, MetricResult } from './analysis';
import { KubeApiError, KubeClient } from './kube-client';
import { ReleaseLease } from './lease';
import { leftoversOf, LiveObjects, readLiveObjects, versionLeftoversOf } from './live-objects';
import { RolloutEvents } from './reporter';
import { planChanges, planDigest, readStateRecord, StateRecord, stageDigest, writeStateRecord } from './state-record';
import {
  dwell, endpointsPending, gonePending, podsGonePending, ProxyWaitMode, proxiesPending, reconciledPending, replicasPending,
  rolloutPending, routePending, Stopped, throwIfStopped, waitUntil, WaitContext, WaitFailed, WaitSettings, WaitTimeout,
} from './waits';
import { STAGE_ANNOTATION } from '../_conventions';
import { CliError, EXIT_UNSAFE, EXIT_USAGE } from '../cli/errors';
import { releaseObjectOf, ReleaseRef, releaseStateIn, stageFacts } from '../cli/release-view';
import { changesBetween, keyOf } from '../cli/stage-diff';
import { errorsIn, PlanResult, StageResult } from '../cli/stages';
import { forwardActions, rollbackActions, TransitionAction } from '../cli/transition';
import { checkManifests } from '../routing/_registry';
import { LiveWaitKind } from '../routing/_runbook';
import { readOptions } from '../safety/_engine';
import { SafetyViolation } from '../safety/safety-rule';

/** A stage's analysis failed, or a wait timed out, and the release was rolled back to its first stage. */
export const EXIT_ROLLED_BACK = 4;
/** Paused before a `pauseBefore` stage: `promote` goes on. */
export const EXIT_PAUSED = 5;

export interface DriverOptions {
  /** `--to`: the stage to reach (default: the last). */
  readonly to?: string;
  /** `--force`: apply even when the live stage is not the one before (the safety check against the live objects still runs). */
  readonly force?: boolean;
  /** `--retry`: run a plan whose digest was rolled back before. */
  readonly retry?: boolean;
  /** `--prometheus`, passed to the analysis. */
  readonly prometheus?: string;
  /** Seconds a Lease lasts without renewal. */
  readonly leaseSeconds: number;
  /** Who the driver is (`host/pid/random`). */
  readonly identity: string;
}

/** The live stage of the release(s): the plan index, -1 when the routing objects do not exist yet. */
interface Live {
  readonly index: number;
  readonly name: string;
}

export class RolloutDriver {
  private readonly stages: StageResult[];
  private readonly digest: string;
  private readonly namespace: string;
  private record?: StateRecord;
  /** The live stage an earlier release left, over which this plan's first stage is applied (the guard accepts it). */
  private adopted?: string;
  /**
   * The live stage when it is one this plan does not know (adopted, or forced over; several names when the releases
   * are at different stages): its first stage's transition is from the live objects.
   */
  private unknownLive?: string;
  private leases: ReleaseLease[] = [];

  constructor(
    private readonly kube: KubeClient,
    private readonly plan: PlanResult,
    private readonly hooks: RolloutHooks,
    private readonly events: RolloutEvents,
    private readonly settings: WaitSettings,
    private readonly options: DriverOptions,
    private readonly controller: AbortController,
  ) {
    this.stages = plan.stages;
    this.digest = planDigest(plan.stages);
    this.namespace = readOptions(plan.read.namespace).namespace;
  }

  private get signal(): AbortSignal {
    return this.controller.signal;
  }

  /** `rollout` (and, with `promote`, past the pending pause): returns the exit code, throws `CliError` for refusals. */
  async rollout(promote: boolean): Promise<number> {
    this.refuseUnsafePlan();
    const target = this.targetIndex();
    return this.locked(async () => {
      const record = this.record;
      let live = await this.liveStage();
      this.refuseChangedPlan(record, live);
      if (record?.digest === this.digest && (record.state === 'rolling-back' || record.state === 'failed') && live.index >= 0) {
        return this.finishRollBack(record, live);
      }
      if (await this.earlierRelease(record, live)) {
        // The live stage is where an earlier release (another plan) ended: this plan starts at its first stage.
        this.adopted = live.name;
        this.unknownLive = live.name;
        live = { index: -1, name: '-' };
      }
      if (record?.rolledBack.includes(this.digest) && !this.options.retry && record.digest === this.digest && record.state === 'rolled-back') {
        throw new CliError(`this plan (digest ${short(this.digest)}) was rolled back before${record.reason ? ` (${record.reason})` : ''}: `
          + 'change it, or pass --retry to run it again', EXIT_UNSAFE);
      }
      if (live.index > target) {
        throw new CliError(`the release is at stage '${live.name}', past --to ${this.stages[target].name}: roll back with \`mesh-release abort\``, EXIT_USAGE);
      }
      const current = record?.digest === this.digest;
      const complete = current && live.index >= 0 && record?.stage === live.name && !record.applying;
      // The record says the live stage is complete and the next one was being applied, the cluster still at the live
      // one: that transition is performed again, the live stage is not applied again.
      const applying = current && live.index >= 0 && record?.stage === live.name && record.applying !== undefined
        ? this.stages.findIndex((s) => s.name === record.applying) : -1;
      const interrupted = applying === live.index + 1 && applying <= target;
      let next = complete || interrupted ? live.index + 1 : Math.max(live.index, 0);
      // The stage the cluster is at before `next`: a stage resumed is applied again over the one before it.
      let from = next === live.index ? next - 1 : live.index;
      this.events.emit({
        event: 'start',
        command: promote ? 'promote' : 'rollout',
        releases: this.releaseNames(),
        digest: short(this.digest),
        live: live.index < 0 ? '(none)' : live.name,
        target: this.stages[target].name,
        resume: live.index >= 0 && !complete ? (interrupted ? this.stages[applying].name : live.name) : undefined,
      });
      if (next <= target) {
        await this.hooks.beforeApplying?.(this.stages.slice(next, target + 1));
      }
      const already = next > target;
      let promoted = promote && current && record?.state === 'paused' ? record.pausedBefore : undefined;
      if (promote && !promoted) {
        this.events.emit({ event: 'note', message: 'no pause is pending: going on like rollout' });
      }
      for (; next <= target; next++) {
        const stage = this.stages[next];
        const started = { wall: performance.now(), waiting: this.kube.waiting.milliseconds };
        const resuming = next === live.index || (interrupted && next === applying);
        if (!resuming && this.hooks.pausesBefore(stage) && promoted !== stage.name) {
          await this.write({ state: 'paused', pausedBefore: stage.name, stage: this.stages[next - 1]?.name, applying: undefined });
          this.events.emit({ event: 'paused', stage: stage.name });
          return EXIT_PAUSED;
        }
        promoted = undefined;
        try {
          await this.forward(next, from);
          from = next;
        } catch (e) {
          if (e instanceof WaitTimeout || e instanceof WaitFailed) {
            return this.rollBack(`stage ${stage.name}: ${e.message}`);
          }
          throw e;
        }
        const analysis = await this.analyze(stage);
        if (!analysis.passed) {
          return this.rollBack(`the analysis of stage ${stage.name} failed${analysis.reason ? `: ${analysis.reason}` : ''}`, analysis.results);
        }
        await this.write({
          stage: stage.name,
          applying: undefined,
          state: next === this.stages.length - 1 ? 'completed' : 'progressing',
          pausedBefore: undefined,
          reason: undefined,
          // A stage not analyzed keeps the results of the last one that was.
          analysis: analysis.results.length > 0 ? [...analysis.results] : [...this.record?.analysis ?? []],
        });
        const wall = performance.now() - started.wall;
        const waited = this.kube.waiting.milliseconds - started.waiting;
        this.events.emit({ event: 'timing', stage: stage.name, seconds: round(wall / 1000), waitedSeconds: round(waited / 1000), ownMs: Math.round(wall - waited) });
      }
      this.events.emit({
        event: 'done',
        message: `${this.releaseNames()}: ${already ? 'already ' : ''}at stage ${this.stages[target].name}`
        + `${target === this.stages.length - 1 ? ' (the last: completed)' : ''}`,
      });
      return 0;
    });
  }

  /** `abort`: rolls back from the live stage to the first, one stage at a time. */
  async abort(): Promise<number> {
    this.refuseUnsafePlan();
    return this.locked(async () => {
      const live = await this.liveStage();
      this.refuseChangedPlan(this.record, live);
      if (live.index <= 0) {
        this.events.emit({ event: 'done', message: `${this.releaseNames()}: at ${live.index < 0 ? 'no stage (nothing applied)' : `the first stage, ${live.name}`}: nothing to roll back` });
        return 0;
      }
      await this.rollBackFrom(this.rollBackStart(this.record, live), 'aborted');
      this.events.emit({ event: 'done', message: `${this.releaseNames()}: rolled back to stage ${this.stages[0].name}` });
      return 0;
    });
  }

  /** Runs `body` holding every release's Lease (and its record read), then gives them up. */
  private async locked(body: () => Promise<number>): Promise<number> {
    const releases = [...this.plan.releases].sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
    try {
      await this.checkNamespaces();
      for (const release of releases) {
        const { identity, leaseSeconds } = this.options;
        const lease = await ReleaseLease.acquire(this.kube, release, identity, leaseSeconds, this.events, undefined, this.signal);
        this.leases.push(lease);
      }
      for (const lease of this.leases) {
        lease.keepRenewed((why) => this.controller.abort(why));
      }
      this.record = await readStateRecord(this.kube, this.plan.releases[0]);
      return await body();
    } catch (e) {
      if (e instanceof Stopped) {
        if (this.record?.digest === this.digest && this.record.state === 'rolling-back') {
          throw new CliError(`stopped (${e.why}) during a roll back; the release is between its stages, not rolled back yet: `
            + 'run `mesh-release abort` to finish the roll back', EXIT_UNSAFE);
        }
        throw new CliError(`stopped (${e.why}); the release stays where it is: run the command again to resume`, EXIT_UNSAFE);
      }
      const r = this.record;
      if (e instanceof KubeApiError && r?.digest === this.digest && r.applying !== undefined) {
        // A transition under way (recorded before its first apply): the cluster is not where it was, whatever failed.
        throw new CliError(`${e.message}. The release is between stage ${r.stage ?? '(none)'} and stage ${r.applying} (part of ${r.applying} may be applied): `
          + (r.state === 'rolling-back' ? 'run `mesh-release abort` to finish the roll back'
            : 'run the command again to go on from there, or `mesh-release abort` to roll it back'), EXIT_UNSAFE);
      }
      if (e instanceof KubeApiError) {
        // Not reachable (a wrong kubeconfig or context): bad input; refused by the API server (RBAC, admission, schema): refused.
        throw new CliError(`${e.message} (the release is where it was before this step: \`mesh-release status\`)`, e.status === 0 ? EXIT_USAGE : EXIT_UNSAFE);
      }
      throw e;
    } finally {
      await Promise.all(this.leases.map((l) => l.release().catch(() => undefined)));
      this.leases = [];
    }
  }

  /** A namespace of the plan that does not exist: a clear error before anything is taken or applied. */
  private async checkNamespaces(): Promise<void> {
    const namespaces = [...new Set(this.plan.releases.map((r) => r.namespace))];
    for (const ns of namespaces) {
      try {
        const found = await this.kube.find('v1', 'Namespace', undefined, ns);
        if (!found) {
          throw new CliError(`namespace ${ns} (of release ${this.plan.releases.filter((r) => r.namespace === ns).map((r) => r.name).join(', ')}) `
            + `does not exist on ${this.kube.access.server} (context ${this.kube.access.context}): create it, or pick the right context`, EXIT_USAGE);
        }
      } catch (e) {
        // Not allowed to read namespaces: the Lease in it tells.
        if (!(e instanceof KubeApiError && e.status === 403)) {
          throw e;
        }
      }
    }
  }

  /** Every transition of the plan, forward and back, must be safe (the plan's own check). */
  private refuseUnsafePlan(): void {
    const unsafe = this.stages.flatMap((s) => [
      ...errorsIn(s.violations).map((v) => `stage ${s.name}: ${v.object} [${v.rule}] ${v.message}`),
      ...errorsIn(s.rollbackViolations).map((v) => `roll back from ${s.name}: ${v.object} [${v.rule}] ${v.message}`),
    ]);
    if (unsafe.length > 0) {
      throw new CliError(`the plan is unsafe (run \`mesh-release plan\` for details), nothing applied:\n  ${unsafe.slice(0, 10).join('\n  ')}`, EXIT_UNSAFE);
    }
  }

  private targetIndex(): number {
    if (this.options.to === undefined) {
      return this.stages.length - 1;
    }
    const index = this.stages.findIndex((s) => s.name === this.options.to);
    if (index < 0) {
      throw new CliError(`--to ${this.options.to}: not a stage of the plan (${this.stages.map((s) => s.name).join(', ')})`, EXIT_USAGE);
    }
    return index;
  }

  /** A plan whose stages changed while a release of it is under way (progressing, paused, failed) is refused, naming what changed. */
  private refuseChangedPlan(record: StateRecord | undefined, live: Live): void {
    if (!record || record.digest === this.digest || record.state === 'completed' || record.state === 'rolled-back' || live.index < 0) {
      return;
    }
    const changes = planChanges(record, this.stages);
    const message = `the plan changed while its release is ${record.state} at stage ${record.stage ?? '(none)'} `
      + `(recorded digest ${short(record.digest)}, now ${short(this.digest)}): ${changes.join(', ') || 'its objects changed'}`;
    if (!this.options.force) {
      throw new CliError(`${message}. Finish it with the plan it started with, roll it back (\`mesh-release abort\` with that plan), `
        + 'or pass --force to go on with this plan from the live stage (each step is still checked by the safety check)', EXIT_UNSAFE);
    }
    this.events.emit({ event: 'note', message: `--force: ${message}` });
  }

  /**
   * The live stage: the `mesh-release.io/stage` of each release's routing object. Releases at different stages, or a
   * stage the plan does not have, are refused (with `--force`, the plan's first stage is applied over it).
   */
  private async liveStage(): Promise<Live> {
    const found = await Promise.all(this.plan.releases.map(async (release) => ({ release, stage: await this.liveStageOf(release) })));
    const names = [...new Set(found.map((f) => f.stage ?? '-'))];
    const described = found.map((f) => `${f.release.kind}/${f.release.name} (namespace ${f.release.namespace}) is at ${f.stage === undefined ? 'no stage (absent)' : `'${f.stage}'`}`).join(', ');
    const index = names.length === 1 ? (names[0] === '-' ? -1 : this.stages.findIndex((s) => s.name === names[0])) : -2;
    if (index >= -1) {
      // A stage this plan does not have (the guard refuses it without --force).
      if (index === -1 && names[0] !== '-') {
        this.unknownLive = names[0];
      }
      return { index, name: names[0] };
    }
    if (this.options.force) {
      this.events.emit({ event: 'note', message: `--force: ${described}, which this plan does not have: applying its first stage over it` });
      this.unknownLive = names.join("', '");
      return { index: -1, name: '-' };
    }
    throw new CliError(`${described}: ${names.length > 1 ? 'the releases are at different stages' : 'a stage this plan does not have'} `
      + `(stages: ${this.stages.map((s) => s.name).join(', ')}). If a release before this one left it there, pass --force to apply this plan's `
      + 'first stage over it (checked by the safety check)', EXIT_UNSAFE);
  }

  private async liveStageOf(release: ReleaseRef): Promise<string | undefined> {
    const object = this.stages.map((s) => releaseObjectOf(s.manifests, release, this.plan.read.namespace)).find((o) => o !== undefined);
    if (!object) {
      return undefined;
    }
    const live = await this.kube.find(object.apiVersion, object.kind, release.namespace, release.name);
    if (!live) {
      return undefined;
    }
    return live.metadata?.annotations?.[STAGE_ANNOTATION] ?? '(no mesh-release.io/stage annotation)';
  }

  /**
   * Applies stage `index` over the live stage `from` (-1: nothing) and waits until it is live. Over a live stage the
   * plan does not know (`unknownLive`: an earlier release's, adopted or forced), the first stage's transition is
   * from the live objects: it also deletes what the releases have live and the stage does not (an earlier
   * version's Deployment, autoscaler, budget, Service), in the runbook's delete order and with its waits.
   */
  private async forward(index: number, from: number): Promise<void> {
    const stage = this.stages[index];
    const previous = from >= 0 ? this.stages[from] : undefined;
    const over = previous === undefined && this.unknownLive !== undefined;
    const live = await this.checkLive(stage, previous, over, stage.violations);
    let actions = forwardActions(stage, previous, this.plan);
    if (over) {
      const leftovers = versionLeftoversOf(live, stage.manifests, this.namespace);
      // The releases' other objects the stage lacks (made by hand) are not the release's: neither deleted nor changed.
      const kept = new Set(leftoversOf(live, stage.manifests, this.namespace).filter((o) => !leftovers.includes(o))
        .map((o) => keyOf(o, this.namespace)));
      const manifests = live.objects.filter((o) => !kept.has(keyOf(o, this.namespace)));
      const before: StageResult = { ...stage, index: -1, name: this.unknownLive ?? '(live)', manifests, violations: [], rollbackViolations: [] };
      const transition: StageResult = { ...stage, changes: changesBetween(stage.manifests, manifests, this.namespace) };
      // The guard stays the plan's: over a live stage it does not know, only --force or an adopted stage passes it.
      const guards = actions.filter((a) => a.kind === 'guard');
      actions = forwardActions(transition, before, this.plan).map((a) => (a.kind === 'guard' ? guards.find((g) => g.kind === 'guard' && g.release === a.release) ?? a : a));
      if (leftovers.length > 0) {
        this.events.emit({
          event: 'note',
          stage: stage.name,
          message: 'over the live stage this plan does not know: deleting what the release has live and this stage does not have, '
            + `after its apply, routes first: ${leftovers.map((o) => `${o.kind}/${o.metadata?.name}`).join(', ')} (objects of other apps are not touched)`,
        });
      }
    }
    this.events.emit({ event: 'stage', stage: stage.name, direction: 'forward', index: index + 1, of: this.stages.length });
    await this.perform(actions, stage.name, () => this.write({ applying: stage.name, state: 'progressing' }));
  }

  /**
   * `SafetyCheck`'s rules on `target` applied over what is live, before anything of the step is applied: the live
   * counterparts of the objects of `target` and of `believed` (the plan's stage the cluster is believed to be at),
   * and the releases' other live objects (`live-objects.ts`). What the step leaves live is checked with the target:
   * the releases' live objects the target lacks stay, unless the step deletes them (the believed stage's, or, when
   * `deletesLeftovers`, the earlier versions' objects: `versionLeftoversOf`). With nothing live, it is a first apply, checked like the plan's first stage. Errors
   * refuse the step; warnings the plan's own check did not give are printed.
   */
  private async checkLive(target: StageResult, believed: StageResult | undefined, deletesLeftovers: boolean, planned: SafetyViolation[]):
  Promise<LiveObjects> {
    const live = await readLiveObjects(this.kube, target.manifests, believed?.manifests ?? [], this.plan.releases, this.namespace);
    const dropped = new Set((believed?.manifests ?? []).map((m) => keyOf(m, this.namespace)));
    const deleted = new Set((deletesLeftovers ? versionLeftoversOf(live, target.manifests, this.namespace) : [])
      .map((o) => keyOf(o, this.namespace)));
    const staying = leftoversOf(live, target.manifests, this.namespace)
      .filter((o) => !dropped.has(keyOf(o, this.namespace)) && !deleted.has(keyOf(o, this.namespace)));
    const options = readOptions(this.plan.read.namespace, this.plan.read.clusterDomain);
    // Nothing live (a first install): checked as a first apply, as the plan checks its first stage.
    const violations = checkManifests([...target.manifests, ...staying], live.objects.length > 0 ? live.objects : undefined, options);
    const errors = errorsIn(violations);
    const back = believed !== undefined && believed.index > target.index;
    if (errors.length > 0) {
      const at = believed ? `stage '${believed.name}'` : this.unknownLive !== undefined ? `stage '${this.unknownLive}', which an earlier release left` : 'no stage';
      throw new CliError(`${back ? 'rolling back to' : 'applying'} stage ${target.name} over the objects live in the cluster (${at}) `
        + 'is unsafe; nothing of it was applied:\n  '
        + `${errors.slice(0, 10).map((v) => `${v.object} [${v.rule}] ${v.message}: ${v.fix}`).join('\n  ')}\n`
        + (back ? 'The release stays where it is, being rolled back: fix what is live, then run `mesh-release abort`'
          : 'Fix what is live (or the plan), then run the command again'), EXIT_UNSAFE);
    }
    const known = new Set(planned.map(violationKey));
    for (const v of violations.filter((w) => !known.has(violationKey(w)))) {
      this.events.emit({ event: 'check', stage: target.name, message: `warning from the live objects: ${v.object} [${v.rule}] ${v.message}: ${v.fix}` });
    }
    return live;
  }

  /** Rolls back from the live stage to the first; returns exit 4. */
  private async rollBack(reason: string, results: readonly MetricResult[] = []): Promise<number> {
    this.events.emit({ event: 'rollback', message: `rolling back: ${reason}` });
    await this.write({ state: 'rolling-back', reason, analysis: results.length > 0 ? [...results] : [...this.record?.analysis ?? []] });
    const live = await this.liveStage();
    await this.rollBackFrom(live, reason);
    this.events.emit({ event: 'done', message: `${this.releaseNames()}: rolled back to stage ${this.stages[0].name} (${reason})` });
    return EXIT_ROLLED_BACK;
  }

  /**
   * Rolls back from the live stage to the first. Recorded as `rolling-back`, with the plan's digest among the
   * digests rolled back, before the first step: a driver stopped or killed meanwhile leaves a record that
   * `rollout` and `promote` finish rolling back (never a forward rollout) and `abort` goes on with.
   */
  private async rollBackFrom(live: Live, reason: string): Promise<void> {
    await this.write({ state: 'rolling-back', reason, rolledBack: [...new Set([...(this.record?.rolledBack ?? []), this.digest])] });
    try {
      for (let j = live.index; j >= 1; j--) {
        const stage = this.stages[j];
        const previous = this.stages[j - 1];
        await this.checkLive(previous, stage, false, stage.rollbackViolations);
        this.events.emit({ event: 'stage', stage: previous.name, direction: 'back', index: j, of: this.stages.length });
        await this.perform(rollbackActions(stage, previous, this.plan), previous.name, () => this.write({ applying: previous.name, state: 'rolling-back', reason }));
        await this.write({ stage: previous.name, applying: undefined });
      }
    } catch (e) {
      if (e instanceof WaitTimeout || e instanceof WaitFailed) {
        await this.write({ state: 'rolling-back', reason: `${reason}; the roll back stopped: ${e.message}` });
        throw new CliError(`the roll back stopped: ${e.message}. The release is between two stages: run \`mesh-release abort\` again once fixed`, EXIT_UNSAFE);
      }
      throw e;
    }
    await this.write({
      state: 'rolled-back',
      stage: this.stages[0].name,
      applying: undefined,
      reason,
      rolledBack: [...new Set([...(this.record?.rolledBack ?? []), this.digest])],
    });
  }

  /**
   * `rollout` or `promote` of a plan whose roll back did not finish (stopped, killed, a wait timed out): the roll
   * back is finished, never turned into a forward rollout; exit 4 (a new attempt once rolled back: `--retry`).
   */
  private async finishRollBack(record: StateRecord, live: Live): Promise<number> {
    const reason = record.reason ?? 'a roll back that did not finish';
    this.events.emit({
      event: 'note',
      message: `this plan (digest ${short(this.digest)}) was being rolled back (${reason}): finishing the roll back, not rolling out; `
        + 'once rolled back, pass --retry to run it again',
    });
    await this.rollBackFrom(this.rollBackStart(record, live), reason);
    this.events.emit({ event: 'done', message: `${this.releaseNames()}: rolled back to stage ${this.stages[0].name} (${reason})` });
    return EXIT_ROLLED_BACK;
  }

  /**
   * Where a roll back goes on from: the live stage, or, when the record says the step back to the live stage was
   * under way (`applying` it, e.g. its deletes not done), the stage after it, so that step is performed again whole.
   */
  private rollBackStart(record: StateRecord | undefined, live: Live): Live {
    const applying = record?.digest === this.digest && (record.state === 'rolling-back' || record.state === 'failed') && record.applying !== undefined
      ? this.stages.findIndex((s) => s.name === record.applying) : -1;
    if (applying >= 0 && applying === live.index && applying + 1 < this.stages.length) {
      return { index: applying + 1, name: this.stages[applying + 1].name };
    }
    return live;
  }

  /**
   * Whether the live stage is where an earlier release left it rather than a stage of this plan under way: plans
   * reuse their stage names every release (a canary's last stage is `retire` each time). With a record of another
   * plan that completed or was rolled back, yes: this plan starts at its first stage. Its first stage is then
   * applied over the objects the earlier release left (the earlier plan's stages are not available, its live
   * objects are): checked against them (`checkLive`), deleting those of the releases it does not have (`forward`),
   * with the guard accepting the live stage. Without a record, a live stage past the first whose Deployments are not
   * this plan's (other versions) is refused: with `--force`, this plan starts at its first stage the same way.
   */
  private async earlierRelease(record: StateRecord | undefined, live: Live): Promise<boolean> {
    if (live.index < 0) {
      return false;
    }
    if (record && record.digest !== this.digest && (record.state === 'completed' || record.state === 'rolled-back')) {
      this.events.emit({
        event: 'note',
        message: `the live stage '${live.name}' is where an earlier release ended (plan digest ${short(record.digest)}, ${record.state}): `
          + `this plan (digest ${short(this.digest)}) starts at its first stage, ${this.stages[0].name}`,
      });
      return true;
    }
    if (record || live.index === 0) {
      return false;
    }
    const missing: string[] = [];
    for (const o of this.stages[live.index].manifests.filter((m: any) => m?.kind === 'Deployment')) {
      if (!await this.kube.find(o.apiVersion, o.kind, this.nsOf(o), o.metadata?.name)) {
        missing.push(`${o.kind}/${o.metadata?.name}`);
      }
    }
    if (missing.length === 0) {
      return false;
    }
    const message = `the release is live at stage '${live.name}', a stage of this plan by name, but ${missing.join(', ')} of that stage `
      + 'are not there (other versions) and no driver recorded this plan: an earlier release probably ended at a stage of the same name';
    if (!this.options.force) {
      throw new CliError(`${message}. Nothing applied: pass --force to start this plan at its first stage, ${this.stages[0].name}, `
        + 'over it (each step still checked by the safety check)', EXIT_UNSAFE);
    }
    this.events.emit({ event: 'note', message: `--force: ${message}: starting this plan at its first stage, ${this.stages[0].name}` });
    return true;
  }

  private async analyze(stage: StageResult): Promise<{ passed: boolean; results: readonly MetricResult[]; reason?: string }> {
    const reported: MetricResult[] = [];
    const verdict = await this.hooks.analyzeStage({
      stage,
      releases: (() => {
        const facts = stageFacts(stage.manifests, { namespace: this.plan.read.namespace });
        return this.plan.releases.map((release) => ({ release, state: releaseStateIn(facts, release) }));
      })(),
      prometheus: this.options.prometheus,
      signal: this.signal,
      waiting: this.kube.waiting,
      report: (r) => {
        reported.push(r);
        this.events.emit({ event: 'evaluation', stage: stage.name, ...r });
      },
    });
    throwIfStopped(this.signal);
    this.events.emit({ event: 'analysis', stage: stage.name, passed: verdict.passed, reason: verdict.reason, results: verdict.results });
    return { passed: verdict.passed, results: verdict.results.length > 0 ? verdict.results : reported, reason: verdict.reason };
  }

  /**
   * Performs the actions of one transition, in order, checking for a stop request between them; `started` (the
   * record of the transition under way) once the dry run passed.
   */
  private async perform(actions: TransitionAction[], stage: string, started: () => Promise<void>): Promise<void> {
    const ctx: WaitContext = { kube: this.kube, settings: this.settings, events: this.events, signal: this.signal, stage };
    // The guards first (they only read): a live stage other than the expected one refuses the transition before it
    // is recorded as under way, so the record never names a transition that was refused (a later run would resume it).
    for (const action of actions.filter((a) => a.kind === 'guard')) {
      await this.act(action, ctx);
    }
    // A server-side dry run of every apply and delete first: a refusal (RBAC, schema, admission, a missing CRD)
    // leaves the cluster at the stage it was at.
    await this.dryRun(actions);
    await started();
    for (const action of actions.filter((a) => a.kind !== 'guard')) {
      throwIfStopped(this.signal);
      await this.act(action, ctx);
    }
    this.events.emit({ event: 'live', stage });
  }

  private async dryRun(actions: TransitionAction[]): Promise<void> {
    for (const action of actions) {
      if (action.kind === 'apply' || action.kind === 'scale' || action.kind === 'scale-down') {
        for (const object of action.objects) {
          await this.kube.apply(object, this.namespace, true);
        }
      } else if (action.kind === 'delete') {
        const o = action.object;
        await this.kube.delete(o.apiVersion, o.kind, this.nsOf(o), o.metadata?.name, true);
      }
    }
  }

  private nsOf(object: any): string {
    return object?.metadata?.namespace ?? this.namespace;
  }

  private async act(action: TransitionAction, ctx: WaitContext): Promise<void> {
    const name = (o: any) => `${String(o.kind).toLowerCase()}/${o.metadata?.name}`;
    switch (action.kind) {
      case 'capacity':
        return waitUntil(ctx, `${name(action.deployment)} has its floor of ${action.floor} ready pods before ${action.release} ${action.version} gets more traffic`,
          action.timeoutSeconds, () => replicasPending(this.kube, action.deployment, this.nsOf(action.deployment), action.floor));
      case 'guard':
        return this.guard(action.release, action.object, action.target, action.expected, ctx);
      case 'scale': {
        // Its workload objects of the target stage alone, before the stage routes more traffic to it (the floor wait follows).
        for (const object of action.objects) {
          await this.kube.apply(object, this.namespace);
        }
        this.events.emit({
          event: 'scale',
          stage: ctx.stage,
          message: `scaling ${action.release} ${action.version} first, from a floor of ${action.from} to ${action.floor} pods, before it gets more traffic `
            + `(applied ${action.objects.map((o) => name(o)).join(', ')})`,
        });
        return;
      }
      case 'scale-down': {
        // Left out of the apply (at their live values) until routing was live: its pods carried its old share meanwhile.
        for (const object of action.objects) {
          await this.kube.apply(object, this.namespace);
        }
        this.events.emit({
          event: 'scale',
          stage: ctx.stage,
          message: `scaling ${action.release} ${action.version} down last, from a floor of ${action.from} to ${action.floor} pods, now that routing `
            + `gives it less traffic (applied ${action.objects.map((o) => name(o)).join(', ')})`,
        });
        return;
      }
      case 'apply': {
        for (const object of action.objects) {
          await this.kube.apply(object, this.namespace);
        }
        // The objects of the versions scaled down later are not applied now: not counted as changed.
        const held = new Set(action.held.flatMap((a) => a.objects).map((o) => `${o.kind}/${this.nsOf(o)}/${o.metadata?.name}`));
        const changed = action.changed.filter((o) => !held.has(`${o.kind}/${this.nsOf(o)}/${o.metadata?.name}`));
        this.events.emit({ event: 'apply', stage: ctx.stage, objects: action.objects.length, created: action.created.length, changed: changed.length });
        return;
      }
      case 'rollout':
        return waitUntil(ctx, `${name(action.deployment)} rolled out`, action.timeoutSeconds,
          () => rolloutPending(this.kube, action.deployment, this.nsOf(action.deployment)));
      case 'floor':
        return waitUntil(ctx, `${name(action.deployment)} has its floor of ${action.floor} ready pods`, action.timeoutSeconds,
          () => replicasPending(this.kube, action.deployment, this.nsOf(action.deployment), action.floor));
      case 'delete': {
        const o = action.object;
        const found = await this.kube.delete(o.apiVersion, o.kind, this.nsOf(o), o.metadata?.name);
        this.events.emit({ event: 'delete', stage: ctx.stage, object: `${o.kind}/${o.metadata?.name}`, found });
        return waitUntil(ctx, `${name(o)} deleted`, action.timeoutSeconds, () => gonePending(this.kube, o, this.nsOf(o)));
      }
      case 'pods-gone':
        return waitUntil(ctx, `the pods of ${name(action.deployment)} are gone`, action.timeoutSeconds,
          () => podsGonePending(this.kube, this.nsOf(action.deployment), action.selector));
      case 'live':
        return this.live(action.wait, action.objects, action.after, ctx);
    }
  }

  /** The live stage of the release's routing object must be one of `expected` (`-`: absent), else refuse (unless `--force`). */
  private async guard(release: ReleaseRef, object: any, target: string, expected: string[], ctx: WaitContext): Promise<void> {
    const live = await this.kube.find(object.apiVersion, object.kind, release.namespace, release.name);
    const stage = live ? live.metadata?.annotations?.[STAGE_ANNOTATION] ?? '(no annotation)' : '-';
    const shown = (s: string) => (s === '-' ? 'none (not created yet)' : `'${s}'`);
    if (expected.includes(stage) || (this.adopted !== undefined && stage === this.adopted)) {
      this.events.emit({ event: 'guard', stage: ctx.stage, message: `${object.kind}/${release.name} (namespace ${release.namespace}) is at stage ${shown(stage)}: applying stage '${target}'` });
      return;
    }
    const message = `${object.kind}/${release.name} (namespace ${release.namespace}) is at stage ${shown(stage)}, expected ${expected.map(shown).join(' or ')}`;
    if (this.options.force) {
      this.events.emit({ event: 'guard', stage: ctx.stage, message: `--force: ${message}: applying stage '${target}' anyway` });
      return;
    }
    throw new CliError(`refusing to apply stage '${target}': ${message} (someone else changed it meanwhile?). Pass --force to skip this check`, EXIT_UNSAFE);
  }

  /** What "routing is live" means for the router, then the dwell. */
  private async live(kind: LiveWaitKind, objects: readonly any[], after: 'apply' | 'delete', ctx: WaitContext): Promise<void> {
    const s = this.settings;
    switch (kind) {
      case LiveWaitKind.ROUTES_ACCEPTED:
        for (const route of objects) {
          await waitUntil(ctx, `httproute/${route.metadata?.name}: every parent accepted its generation (Accepted, ResolvedRefs)`, s.routeTimeout,
            () => routePending(this.kube, route, this.nsOf(route)));
        }
        return dwell(ctx, 'the data plane follows the accepted routes');
      case LiveWaitKind.ENDPOINTS_SWITCHED:
        for (const service of objects) {
          await waitUntil(ctx, `service/${service.metadata?.name}: its EndpointSlices list exactly the ready pods it selects`, s.endpointsTimeout,
            () => endpointsPending(this.kube, service, this.nsOf(service)));
        }
        return dwell(ctx, 'kube-proxy follows the EndpointSlices');
      default:
        if (s.proxyMode === ProxyWaitMode.STATUS && objects.length > 0) {
          await waitUntil(ctx, `istiod reconciled ${objects.length} Istio object${objects.length === 1 ? '' : 's'}`, s.propagationTimeout,
            async () => {
              const byNs = await Promise.all(objects.map((o) => reconciledPending(this.kube, [o], this.nsOf(o))));
              return byNs.filter((p) => p !== undefined).join('; ') || undefined;
            });
          return dwell(ctx, 'in-flight connections and endpoint updates');
        }
        if (s.proxyMode === ProxyWaitMode.ISTIOCTL && s.istioctl) {
          await waitUntil(ctx, `every proxy ${after === 'apply' ? 'has the new routing' : 'dropped the deleted Istio objects'} (istioctl proxy-status)`,
            s.propagationTimeout, () => this.kube.waiting.during(proxiesPending(s.istioctl!)));
          return dwell(ctx, 'in-flight connections and endpoint updates');
        }
        return dwell(ctx, `Istio propagation: no istioctl on PATH${s.proxyMode === ProxyWaitMode.STATUS ? ' and no object to check' : ''}, `
          + `so a fixed wait (--propagation-wait ${s.propagationWait})`, s.propagationWait);
    }
  }

  /** Updates the record of every release. */
  private async write(update: Partial<StateRecord>): Promise<void> {
    const base: StateRecord = this.record && this.record.digest === this.digest ? this.record : {
      release: this.plan.releases[0].name,
      namespace: this.plan.releases[0].namespace,
      plan: this.stages.map((s) => s.name),
      digest: this.digest,
      stageDigests: this.stages.map(stageDigest),
      state: 'progressing',
      analysis: [],
      rolledBack: this.record?.rolledBack ?? [],
    };
    const next: StateRecord = { ...base, ...update, driver: this.options.identity };
    for (const release of this.plan.releases) {
      await writeStateRecord(this.kube, release, { ...next, release: release.name, namespace: release.namespace });
    }
    this.record = next;
  }

  private releaseNames(): string {
    return this.plan.releases.map((r) => `${r.namespace}/${r.name}`).join(', ');
  }
}

function violationKey(v: SafetyViolation): string {
  return `${v.rule}|${v.object}|${v.message}`;
}

function round(seconds: number): number {
  return Math.round(seconds * 10) / 10;
}

function short(digest: string): string {
  return digest.slice(0, 12);
}
