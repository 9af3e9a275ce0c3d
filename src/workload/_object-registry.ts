/**
 * The constructs of a chart whose objects must be the only ones of their kind, name and namespace in the whole app
 * (a `VersionedApp`, a `MeshRelease`), kept in a construct of the chart (one per chart, no module state). At synth
 * time it refuses an object of theirs that another construct also defines: the second apply overwrites the first, or
 * fails on a Deployment's immutable selector (app `foo` + version `bar-v1` and app `foo-bar` + version `v1` both make
 * `foo-bar-v1`; two versions of one app that both `createService` both make the Service `foo`).
 */
import { ApiObject, Chart } from 'cdk8s';
import { Construct, IConstruct } from 'constructs';
import { push } from '../_util';

const REGISTRY_ID = 'mesh-release.io~objects';

export class ObjectRegistry extends Construct {
  /**
   * Registers `owner` in the registry of its chart (made on first use). `namespace`: the namespace the owner writes on
   * its objects when the chart has none (a release's); without it, an object's own namespace, else its chart's.
   */
  public static claim(owner: IConstruct, namespace?: string): void {
    const chart = Chart.of(owner);
    const registry = (chart.node.tryFindChild(REGISTRY_ID) as ObjectRegistry | undefined) ?? new ObjectRegistry(chart);
    registry.owners.set(owner, namespace);
  }

  /** The owners registered, with the namespace they write on their objects, if any. */
  private readonly owners = new Map<IConstruct, string | undefined>();

  private constructor(chart: Chart) {
    super(chart, REGISTRY_ID);
    this.node.addValidation({ validate: () => this.collisions() });
  }

  /** One message per object of an outermost owner (a release, not its versions too) that another construct also defines. */
  private collisions(): string[] {
    // One registry per app scans it (the first in tree order: cdk8s validates the whole app once per chart it renders).
    const root = this.node.root;
    const registries = Chart.isChart(root) ? registriesUnder(root) : root.node.children.flatMap((c) => registriesUnder(c));
    if (registries[0] !== this) {
      return [];
    }
    const owners = new Map<IConstruct, string | undefined>(registries.flatMap((r) => [...r.owners].filter(([owner]) => inTree(owner))));
    if (owners.size === 0) {
      return [];
    }
    const index = new Map<string, string[]>();
    for (const o of apiObjectsUnder(root)) {
      push(index, identityOf(o, owners), o.node.path);
    }
    const outermost = [...owners.keys()].filter((owner) => !ancestorsOf(owner).some((a) => owners.has(a)));
    return outermost.flatMap((owner) => apiObjectsUnder(owner).flatMap((o) => {
      const others = (index.get(identityOf(o, owners)) ?? []).filter((path) => path !== o.node.path);
      return others.length === 0 ? [] : [`[${owner.node.path}] [duplicate-object] ${o.kind}/${o.name} in namespace '${namespaceOf(o, owners)}' is also defined by ${others.join(', ')}: `
        + 'only one survives the apply. Fix: give every object a unique name (one MeshRelease per app and namespace in the whole app; one VersionedApp per '
        + 'app and version, with createService on one of them only; app and version names that do not run together)'];
    }));
  }
}

/** The API objects in a construct's subtree, in tree order (the order cdk8s renders objects without dependencies). */
export function apiObjectsUnder(scope: IConstruct): ApiObject[] {
  return scope.node.findAll().filter((c): c is ApiObject => c instanceof ApiObject);
}

/** The registries of the charts at and under `scope` (charts are at the top of an app, possibly nested). */
function registriesUnder(scope: IConstruct): ObjectRegistry[] {
  if (!Chart.isChart(scope)) {
    return [];
  }
  const own = scope.node.tryFindChild(REGISTRY_ID) as ObjectRegistry | undefined;
  return [...(own ? [own] : []), ...scope.node.children.flatMap((c) => registriesUnder(c))];
}

function identityOf(o: ApiObject, owners: Map<IConstruct, string | undefined>): string {
  return `${o.apiGroup}/${o.kind}/${namespaceOf(o, owners)}/${o.name}`;
}

/** The namespace an object is applied to: the one its innermost owner with a namespace writes, else its own or its chart's, else `default`. */
function namespaceOf(o: ApiObject, owners: Map<IConstruct, string | undefined>): string {
  const written = ancestorsOf(o).map((a) => owners.get(a)).find((namespace) => namespace !== undefined);
  return written ?? o.metadata.namespace ?? Chart.of(o).namespace ?? 'default';
}

/** The scopes above a construct, innermost first. */
function ancestorsOf(c: IConstruct): IConstruct[] {
  const scopes: IConstruct[] = [];
  for (let scope = c.node.scope; scope; scope = scope.node.scope) {
    scopes.push(scope);
  }
  return scopes;
}

/** Whether a construct is still in its tree (a construct that threw is removed from its scope, and keeps its registration). */
function inTree(c: IConstruct): boolean {
  return [c, ...ancestorsOf(c)].every((x) => !x.node.scope || x.node.scope.node.tryFindChild(x.node.id) === x);
}
