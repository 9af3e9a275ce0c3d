import { ApiObject } from 'cdk8s';
import { ApplyOrder } from './apply-order';

type Phase = 'subsets' | 'workloads' | 'routes';

const ARGO_WAVES: Record<Phase, string> = { subsets: '-1', workloads: '0', routes: '1' };

/** Annotates every object of a release for `order`. */
export function annotateApplyOrder(objects: ApiObject[], app: string, order: ApplyOrder): void {
  if (order === ApplyOrder.NONE) {
    return;
  }
  const group = (phase: Phase) => `mesh-release.io/${app}-${phase}`;
  for (const object of objects) {
    const phase: Phase = object.kind === 'DestinationRule' ? 'subsets' : object.kind === 'VirtualService' ? 'routes' : 'workloads';
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
