/**
 * Traffic floors: an autoscaled version's `minReplicas` raised to its share of the traffic (see
 * `MeshReleaseProps.scaleWithTraffic`), a pure function of the stage, the stages of its plan and the props.
 */
import { ReleaseStage } from '../plan/release-stage';
import { Scaling } from '../workload/scaling';
import { WorkloadOptions } from '../workload/workload-options';

/**
 * Scaling raised to each autoscaled version's share of traffic at `stage`. Versions absent from the result keep
 * their own scaling.
 *
 * A step (forward, or a roll back to the stage before) moves weights at once, while pods start later: the pods
 * a version has before a step must carry the share it has after it. So a version's floor covers its share here
 * and each share it has in a neighbouring stage (previous or next) above its share here:
 * `ceil(reference x share / 100)`, where the reference is that stage's — the floor that carries all of its
 * traffic. A stage's reference is the largest `minReplicas` of the versions deployed in it or in the stage
 * before, and at least every floor it gives (a version raised by a neighbour's reference raises the stage's own):
 * the floors of every stage of the plan are computed together, until no reference rises (they only rise, and
 * never above the largest `minReplicas` of the plan). This is what the `rollback-capacity` rule
 * (`safety/rules/rollback-capacity.ts`) checks on every transition, whose reference is the largest floor of the
 * stage after the step.
 */
export function trafficFloors(stage: ReleaseStage, scalingOf: (version: string) => Scaling | undefined): Map<string, Scaling> {
  const minOf = (version: string) => scalingOf(version)?.minReplicas ?? Scaling.DEFAULT_MIN_REPLICAS;
  const raised = (version: string) => scalingOf(version)?.autoscaled !== false;
  const stages = stagesOfPlan(stage);
  const references = stages.map((s, i) => Math.max(...[...s.deployed, ...(stages[i - 1]?.deployed ?? [])].map(minOf)));
  /** The floor of `version` at the i-th stage with the current references. */
  const floorAt = (i: number, version: string): number => {
    const own = stages[i].weightOf(version);
    let floor = Math.max(minOf(version), Math.ceil(references[i] * own / 100));
    for (const j of [i - 1, i + 1]) {
      const share = stages[j]?.weightOf(version) ?? 0;
      if (share > own) {
        floor = Math.max(floor, Math.ceil(references[j] * share / 100));
      }
    }
    return floor;
  };
  for (let rising = true; rising;) {
    rising = false;
    stages.forEach((s, i) => {
      for (const version of s.deployed.filter(raised)) {
        const floor = floorAt(i, version);
        if (floor > references[i]) {
          references[i] = floor;
          rising = true;
        }
      }
    });
  }
  const at = stages.indexOf(stage);
  const floors = new Map<string, Scaling>();
  for (const version of stage.deployed.filter(raised)) {
    const floor = floorAt(at, version);
    if (floor > minOf(version)) {
      floors.set(version, (scalingOf(version) ?? Scaling.autoscale()).withMinReplicas(floor));
    }
  }
  return floors;
}

/** The stages before `stage` (through `previous`), `stage`, and the stages after it (through `next`, in a plan). */
function stagesOfPlan(stage: ReleaseStage): ReleaseStage[] {
  const stages = [stage];
  for (let s = stage.previous; s; s = s.previous) {
    stages.unshift(s);
  }
  for (let s = stage.next; s; s = s.next) {
    stages.push(s);
  }
  return stages;
}

/** The scaling options of each version: its own, else the release's defaults. */
export function scalingOptions(versions: ReadonlyArray<WorkloadOptions & { readonly version: string }>, defaults: WorkloadOptions | undefined):
(version: string) => Scaling | undefined {
  const byVersion = new Map(versions.map((v) => [v.version, v.scaling]));
  return (version) => byVersion.get(version) ?? defaults?.scaling;
}
