import { ApiObject } from 'cdk8s';
import { ApplyOrder } from './apply-order';
import { ObjectRole } from '../routing/_router';

type Phase = 'routable' | 'workloads' | 'routes';

const ARGO_WAVES: Record<Phase, string> = { routable: '-1', workloads: '0', routes: '1' };

/**
 * The phase of an object from its role in the stage's desired state: what makes a version routable first
 * (DestinationRule, per-version Services), what routes last (VirtualService, HTTPRoute, and the version-free Service
 * when it selects a version: a selector switch), and everything else (workloads, the Service, mesh policies) between.
 */
function phaseOf(role: ObjectRole, serviceSelectsVersion: boolean): Phase {
  switch (role) {
    case 'routable':
      return 'routable';
    case 'route':
      return 'routes';
    case 'service':
      return serviceSelectsVersion ? 'routes' : 'workloads';
    default:
      return 'workloads';
  }
}

/** Annotates every object of a release, with its role in the stage, for `order`. */
export function annotateApplyOrder(objects: ReadonlyArray<{ readonly object: ApiObject; readonly role: ObjectRole }>, app: string,
  order: ApplyOrder, serviceSelectsVersion: boolean): void {
  if (order === ApplyOrder.NONE) {
    return;
  }
  const group = (phase: Phase) => `mesh-release.io/${app}-${phase}`;
  for (const { object, role } of objects) {
    const phase = phaseOf(role, serviceSelectsVersion);
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
