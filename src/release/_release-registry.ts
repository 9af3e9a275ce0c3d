/**
 * The releases of one chart, kept in a construct of the chart (one per chart, no module state): refuses a second
 * release of one app in one namespace when it is built. (Objects that two constructs define, another release, another
 * chart or a VersionedApp of its own, are found at synth time by `workload/_object-registry.ts`.)
 */
import { Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';

const REGISTRY_ID = 'mesh-release.io~releases';

/** What the registry knows of a release. */
export interface RegisteredRelease extends IConstruct {
  readonly app: string;
  readonly namespace: string;
}

export class ReleaseRegistry extends Construct {
  /** The registry of the chart `scope` is in (made on first use). */
  public static of(scope: IConstruct): ReleaseRegistry {
    const chart = Chart.of(scope);
    return (chart.node.tryFindChild(REGISTRY_ID) as ReleaseRegistry | undefined) ?? new ReleaseRegistry(chart);
  }

  private readonly releases = new Map<string, RegisteredRelease>();

  private constructor(chart: Chart) {
    super(chart, REGISTRY_ID);
  }

  /** The release already releasing `app` in `namespace`, if any. */
  public releaseOf(namespace: string, app: string): RegisteredRelease | undefined {
    return this.releases.get(`${namespace}/${app}`);
  }

  public add(release: RegisteredRelease): void {
    this.releases.set(`${release.namespace}/${release.app}`, release);
  }

  public remove(release: RegisteredRelease): void {
    if (this.releaseOf(release.namespace, release.app) === release) {
      this.releases.delete(`${release.namespace}/${release.app}`);
    }
  }
}
