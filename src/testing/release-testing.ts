import { Testing } from 'cdk8s';
import { Construct } from 'constructs';
import { CLUSTER_DOMAIN_ANNOTATION } from '../_conventions';
import { ReleaseStage } from '../plan/release-stage';
import { ReleasePlan } from '../release/release-plan';
import { SafetyCheck } from '../safety/safety-check';
import { ManifestSchemas, SchemaViolation } from '../validation/schema-validation';

/** Builds a chart's content for one stage, e.g. `{ buildStage: (scope, stage) => new MeshRelease(scope, 'x', { ..., stage }) }`. */
export interface IStageBuilder {
  /** Adds the constructs of `stage` to `scope`. */
  buildStage(scope: Construct, stage: ReleaseStage): void;
}

/** The manifests of one stage. */
export interface StageManifests {
  /** Name of the stage. */
  readonly stage: string;
  /** The synthesized objects, as plain JSON. */
  readonly manifests: any[];
}

/**
 * Helpers for users' own CI: synthesize a release at a stage, validate the manifests
 * against the Kubernetes and Istio schemas, and assert transitions are safe.
 *
 * Schema validation of Kubernetes kinds uses `kubernetes-models` 4.5, bundled with this package.
 *
 * @example
 * const stages = ReleaseTesting.assertPlan({ buildStage: (scope, stage) => new MeshRelease(scope, 'hello', { ...props, stage }) }, plan);
 * expect(stages).toMatchSnapshot();
 */
export class ReleaseTesting {
  /**
   * Synthesizes `builder` at `stage` in a fresh test chart and returns the manifests. cdk8s runs
   * construct validations first (`Testing.synth` renders through the app), so a `MeshRelease`
   * whose objects as synthesized (user patches included) are unsafe throws.
   */
  public static synthStage(builder: IStageBuilder, stage: ReleaseStage): any[] {
    const chart = Testing.chart();
    builder.buildStage(chart, stage);
    return Testing.synth(chart);
  }

  /** Synthesizes every stage of `plan`, in order. */
  public static synthPlan(builder: IStageBuilder, plan: ReleasePlan): StageManifests[] {
    return plan.stages.map((stage) => ({ stage: stage.name, manifests: ReleaseTesting.synthStage(builder, stage) }));
  }

  /**
   * Throws, listing every violation that can drop requests, unless the stage `current` is safe on its own and,
   * when `previous` is given, to apply after it. Same argument order as `SafetyCheck.assertSafe`. A release
   * synthesized for a cluster domain other than `cluster.local` (`MeshReleaseProps.clusterDomain`) is read with that
   * domain, which its objects carry (`mesh-release.io/cluster-domain`), as `mesh-release check` reads its YAML.
   * @param current the objects of the stage to apply (e.g. from `synthStage`)
   * @param previous the objects of the stage applied before it
   * @param context prefix of the error message, e.g. `stage 'shift-10' (after 'stable')`
   */
  public static assertSafe(current: any[], previous?: any[], context?: string): void {
    SafetyCheck.assertSafe(current, previous, context, { clusterDomain: clusterDomainOf([...current, ...previous ?? []], context) });
  }

  /** Every way the manifests break the upstream Kubernetes and Istio schemas (unknown fields included). */
  public static validateSchemas(manifests: any[]): SchemaViolation[] {
    return ManifestSchemas.validate(manifests);
  }

  /** Throws, listing every violation, unless the manifests match the upstream schemas. */
  public static assertValidSchemas(manifests: any[]): void {
    ManifestSchemas.assertValid(manifests);
  }

  /**
   * Synthesizes every stage of `plan`, asserts each one matches the schemas and is safe
   * to apply after the one before, and returns the manifests (snapshot them).
   */
  public static assertPlan(builder: IStageBuilder, plan: ReleasePlan): StageManifests[] {
    const stages = ReleaseTesting.synthPlan(builder, plan);
    stages.forEach((stage, i) => {
      ReleaseTesting.assertValidSchemas(stage.manifests);
      const previous = stages[i - 1];
      if (previous) {
        ReleaseTesting.assertSafe(stage.manifests, previous.manifests, `stage '${stage.stage}' (after '${previous.stage}')`);
      }
    });
    return stages;
  }
}

/** The cluster domain the releases in `manifests` were synthesized for, when one says (several: an error, one cluster has one). */
function clusterDomainOf(manifests: any[], context: string | undefined): string | undefined {
  const domains = [...new Set(manifests.map((m) => m?.metadata?.annotations?.[CLUSTER_DOMAIN_ANNOTATION]).filter((d) => typeof d === 'string'))];
  if (domains.length > 1) {
    throw new Error(`${context ?? 'stage'}: the releases were synthesized for different cluster domains (${domains.join(', ')}): one cluster has one; `
      + 'check them with SafetyCheck.assertSafe and its clusterDomain option');
  }
  return domains[0];
}
