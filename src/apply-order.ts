import { ApiObject } from 'cdk8s';
import { VERSION_LABEL } from './_conventions';

/**
 * Annotations that make a GitOps tool apply one stage in a safe order when it applies all
 * objects of the stage at once: DestinationRule (or the per-version Services) first, then the
 * Deployments (waiting until they are ready) and the rest, then the VirtualService (or the
 * HTTPRoute, or the Service whose selector switches versions).
 *
 * Applying stages in order, one at a time, is what makes a release safe; ordering only
 * protects a stage applied in one shot (or a stage skipped by mistake) from routing before
 * its subsets and pods are ready.
 */
export enum ApplyOrder {
  /** No ordering annotations: apply the stages one by one and wait between them (see the runbook). */
  NONE = 'none',
  /**
   * Argo CD sync waves (`argocd.argoproj.io/sync-wave`): DestinationRule -1, workloads 0,
   * VirtualService 1. Argo CD waits for a wave to be healthy (Deployments rolled out)
   * before the next one. Trade-off: waves order a sync, not pruning — objects removed from a
   * stage are pruned at the end of the sync, which is the make-before-break order anyway,
   * but only if auto-prune is on.
   */
  ARGO_CD = 'argo-cd',
  /**
   * kapp change groups and rules (`kapp.k14s.io/change-group`, `kapp.k14s.io/change-rule`):
   * workloads are upserted after the DestinationRule, and the VirtualService after the
   * workloads, which kapp waits on until they are ready. Trade-off: kapp waits up to its
   * own timeout (`--wait-timeout`, 15 min by default) for a Deployment that never becomes
   * ready, and then fails the whole apply with the routes unchanged.
   */
  KAPP = 'kapp',
}

type Phase = 'subsets' | 'workloads' | 'routes';

const ARGO_WAVES: Record<Phase, string> = { subsets: '-1', workloads: '0', routes: '1' };

/** Annotates every object of a release for `order`. */
export function annotateApplyOrder(objects: ApiObject[], app: string, order: ApplyOrder): void {
  if (order === ApplyOrder.NONE) {
    return;
  }
  const group = (phase: Phase) => `mesh-release.io/${app}-${phase}`;
  for (const object of objects) {
    const phase = phaseOf(object, app);
    if (order === ApplyOrder.ARGO_CD) {
      object.metadata.addAnnotation('argocd.argoproj.io/sync-wave', ARGO_WAVES[phase]);
      continue;
    }
    object.metadata.addAnnotation('kapp.k14s.io/change-group', group(phase));
    if (phase === 'workloads') {
      object.metadata.addAnnotation('kapp.k14s.io/change-rule', `upsert after upserting ${group('subsets')}`);
    } else if (phase === 'routes') {
      object.metadata.addAnnotation('kapp.k14s.io/change-rule', `upsert after upserting ${group('workloads')}`);
    }
  }
}

/**
 * The phase of an object: subsets (DestinationRule, per-version Services `<app>-<version>`),
 * routes (VirtualService, HTTPRoute, a version-free Service that selects a version: a selector
 * switch), or workloads (everything else).
 */
function phaseOf(object: ApiObject, app: string): Phase {
  switch (object.kind) {
    case 'DestinationRule':
      return 'subsets';
    case 'VirtualService':
    case 'HTTPRoute':
      return 'routes';
    case 'Service':
      if (object.name !== app) {
        return 'subsets';
      }
      return object.toJson().spec?.selector?.[VERSION_LABEL] !== undefined ? 'routes' : 'workloads';
    default:
      return 'workloads';
  }
}
