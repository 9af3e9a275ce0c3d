import { namespaceOf } from './release-view';

/** What changes between two consecutive stages' manifests, as far as applying them is concerned. */
export interface StageDiff {
  /** Deployments that are new, or whose pod template changed: they roll out. */
  readonly rolledOut: any[];
  /** Deployments of the previous stage that are gone: their pods terminate. */
  readonly removedDeployments: any[];
  /** Objects of this stage that the previous stage did not have (`Kind/name`). */
  readonly created: any[];
  /** Whether an Istio networking object (VirtualService, DestinationRule, Gateway...) was added, removed or changed. */
  readonly routingChanged: boolean;
}

export function keyOf(manifest: any): string {
  return `${manifest?.apiVersion}|${manifest?.kind}|${namespaceOf(manifest)}|${manifest?.metadata?.name}`;
}

/** The differences from `previous` (none for the first stage: everything is new) to `current`. */
export function diffStages(current: any[], previous: any[] = []): StageDiff {
  const before = new Map(previous.map((m) => [keyOf(m), m]));
  const now = new Map(current.map((m) => [keyOf(m), m]));
  const isDeployment = (m: any) => m?.kind === 'Deployment';
  const isRouting = (m: any) => typeof m?.apiVersion === 'string' && m.apiVersion.startsWith('networking.istio.io/');
  const routing = (ms: Map<string, any>) =>
    JSON.stringify([...ms].filter(([, m]) => isRouting(m)).map(([k, m]) => [k, m.spec]).sort(([a], [b]) => a.localeCompare(b)));
  return {
    rolledOut: current.filter((m) => isDeployment(m)
      && JSON.stringify(before.get(keyOf(m))?.spec?.template) !== JSON.stringify(m.spec?.template)),
    removedDeployments: previous.filter((m) => isDeployment(m) && !now.has(keyOf(m))),
    created: current.filter((m) => !before.has(keyOf(m))),
    routingChanged: routing(now) !== routing(before),
  };
}
