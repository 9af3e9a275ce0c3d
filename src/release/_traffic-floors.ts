/**
 * Traffic floors: an autoscaled version's `minReplicas` raised to its share of the traffic (see
 * `MeshReleaseProps.scaleWithTraffic`), a pure function of the stage, its neighbours and the props.
 */
import { ReleaseStage } from '../plan/release-stage';
import { Scaling } from '../workload/scaling';
import { WorkloadOptions } from '../workload/workload-options';

/**
 * Scaling raised to each autoscaled version's share of traffic at `stage`: the largest of its weights in the stage,
 * the next one and the previous one, times the largest `minReplicas` of the versions deployed now or just before.
 * Versions absent from the result keep their own scaling.
 */
export function trafficFloors(stage: ReleaseStage, scalingOf: (version: string) => Scaling | undefined): Map<string, Scaling> {
  const floors = new Map<string, Scaling>();
  const minOf = (version: string) => scalingOf(version)?.minReplicas ?? Scaling.DEFAULT_MIN_REPLICAS;
  // The capacity that carried all traffic: the largest floor of the versions deployed now or just before.
  const reference = Math.max(...[...stage.deployed, ...(stage.previous?.deployed ?? [])].map(minOf));
  for (const version of stage.deployed) {
    const scaling = scalingOf(version);
    if (scaling && !scaling.autoscaled) {
      continue;
    }
    const share = Math.max(stage.weightOf(version), stage.next?.weightOf(version) ?? 0, stage.previous?.weightOf(version) ?? 0);
    const floor = Math.ceil(reference * share / 100);
    if (floor > minOf(version)) {
      floors.set(version, (scaling ?? Scaling.autoscale()).withMinReplicas(floor));
    }
  }
  return floors;
}

/** The scaling options of each version: its own, else the release's defaults. */
export function scalingOptions(versions: ReadonlyArray<WorkloadOptions & { readonly version: string }>, defaults: WorkloadOptions | undefined):
(version: string) => Scaling | undefined {
  const byVersion = new Map(versions.map((v) => [v.version, v.scaling]));
  return (version) => byVersion.get(version) ?? defaults?.scaling;
}
