/**
 * The releases of one chart, kept in a construct of the chart (one per chart, no module state):
 * refuses a second release of one app in one namespace when it is built, and, at synth time,
 * objects of the app that two constructs define (another release, another chart).
 */
import { ApiObject, Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { push } from '../_util';

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
    this.node.addValidation({ validate: () => this.collisions() });
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

  /**
   * Objects of this chart's releases that another object of the app also defines: the second apply overwrites the
   * first, or fails on a Deployment's immutable selector (app `foo` + version `bar-v1` and app `foo-bar` + version
   * `v1` both make `foo-bar-v1`).
   */
  private collisions(): string[] {
    // One registry per app scans it (the first in tree order: cdk8s validates the whole app once per chart it renders).
    const root = this.node.root;
    const registries = Chart.isChart(root) ? registriesUnder(root) : root.node.children.flatMap((c) => registriesUnder(c));
    if (registries[0] !== this || registries.every((r) => r.releases.size === 0)) {
      return [];
    }
    const index = new Map<string, string[]>();
    const all = this.node.root.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
    for (const o of all) {
      push(index, identityOf(o), o.node.path);
    }
    return registries.flatMap((registry) => [...registry.releases.values()]).flatMap((release) => apiObjectsUnder(release).flatMap((o) => {
      const others = (index.get(identityOf(o)) ?? []).filter((path) => path !== o.node.path);
      return others.length === 0 ? [] : [`[${release.node.path}] [duplicate-object] ${o.kind}/${o.name} in namespace '${namespaceOf(o)}' is also defined by ${others.join(', ')}: `
        + 'only one survives the apply. Fix: give every object a unique name (one MeshRelease per app and namespace in the whole app; app and version names that do not run together)'];
    }));
  }
}

/** The registries of the charts at and under `scope` (charts are at the top of an app, possibly nested). */
function registriesUnder(scope: IConstruct): ReleaseRegistry[] {
  if (!Chart.isChart(scope)) {
    return [];
  }
  const own = scope.node.tryFindChild(REGISTRY_ID) as ReleaseRegistry | undefined;
  return [...(own ? [own] : []), ...scope.node.children.flatMap((c) => registriesUnder(c))];
}

/** The API objects in a construct's subtree, in tree order (the order cdk8s renders objects without dependencies). */
export function apiObjectsUnder(scope: IConstruct): ApiObject[] {
  return scope.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
}

function identityOf(o: ApiObject): string {
  return `${o.apiGroup}/${o.kind}/${namespaceOf(o)}/${o.name}`;
}

/** The namespace an object is applied to: its release's, else its own or its chart's, else `default`. */
function namespaceOf(o: ApiObject): string {
  for (let scope: IConstruct | undefined = o.node.scope; scope; scope = scope.node.scope) {
    const release = scope as Partial<RegisteredRelease>;
    if (typeof release.app === 'string' && typeof release.namespace === 'string' && !Chart.isChart(scope)) {
      // A release is registered in its chart's registry (found, never made, here: this runs during validation).
      const registry = Chart.of(scope).node.tryFindChild(REGISTRY_ID) as ReleaseRegistry | undefined;
      if (registry?.releaseOf(release.namespace, release.app) === scope) {
        return release.namespace;
      }
    }
  }
  return o.metadata.namespace ?? Chart.of(o).namespace ?? 'default';
}
