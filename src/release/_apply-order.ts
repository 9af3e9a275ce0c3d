import { ApiObject } from 'cdk8s';
import { VERSION_LABEL } from '../_conventions';
import { ApplyOrder } from './apply-order';

type Phase = 'routable' | 'workloads' | 'routes';

const ARGO_WAVES: Record<Phase, string> = { routable: '-1', workloads: '0', routes: '1' };

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
      object.metadata.addAnnotation('kapp.k14s.io/change-rule', `upsert after upserting ${group('routable')}`);
    } else if (phase === 'routes') {
      object.metadata.addAnnotation('kapp.k14s.io/change-rule', `upsert after upserting ${group('workloads')}`);
    }
  }
}

/**
 * The phase of an object: routable (DestinationRule, per-version Services `<app>-<version>`),
 * routes (VirtualService, HTTPRoute, a version-free Service that selects a version: a selector
 * switch), or workloads (everything else).
 */
function phaseOf(object: ApiObject, app: string): Phase {
  switch (object.kind) {
    case 'DestinationRule':
      return 'routable';
    case 'VirtualService':
    case 'HTTPRoute':
      return 'routes';
    case 'Service':
      if (object.name !== app) {
        return 'routable';
      }
      return object.toJson().spec?.selector?.[VERSION_LABEL] !== undefined ? 'routes' : 'workloads';
    default:
      return 'workloads';
  }
}
