/**
 * The Gateway API in the runbook: an HTTPRoute routes, its other kinds (a ReferenceGrant...) come before it; routing
 * is live when every parent of each HTTPRoute applied accepted its generation, with its references resolved.
 */
import { groupOf } from '../../_conventions';
import { LiveWaitKind, RouterRunbook } from '../_runbook';

const GATEWAY_API = 'gateway.networking.k8s.io';

function isHttpRoute(m: any): boolean {
  return m?.kind === 'HTTPRoute' && groupOf(m.apiVersion) === GATEWAY_API;
}

export const GATEWAY_API_RUNBOOK: RouterRunbook = {
  roleOf(m) {
    if (groupOf(m?.apiVersion) !== GATEWAY_API) {
      return undefined;
    }
    return m.kind === 'HTTPRoute' ? 'route' : 'routable';
  },
  afterApply(applied) {
    const routes = applied.filter(isHttpRoute);
    return routes.length === 0 ? [] : [{ kind: LiveWaitKind.ROUTES_ACCEPTED, objects: routes }];
  },
  afterDelete() {
    return [];
  },
};
