/**
 * Istio in the runbook: a VirtualService routes, a DestinationRule (and any other networking.istio.io object) makes
 * subsets routable; routing is live when every Envoy acknowledged the configuration istiod pushed, and when istiod
 * reconciled the networking objects applied (their `Reconciled` condition, with `--istio-status`).
 */
import { groupOf } from '../../_conventions';
import { LiveWaitKind, RouterRunbook } from '../_runbook';

const NETWORKING = 'networking.istio.io';

/** Objects whose change reaches the Envoys only through istiod. */
function isIstio(m: any): boolean {
  const group = groupOf(m?.apiVersion);
  return group === NETWORKING || group === 'security.istio.io';
}

export const ISTIO_RUNBOOK: RouterRunbook = {
  roleOf(m) {
    if (groupOf(m?.apiVersion) !== NETWORKING) {
      return undefined;
    }
    return m.kind === 'VirtualService' ? 'route' : 'routable';
  },
  afterApply(applied) {
    const istio = applied.filter(isIstio);
    return istio.length === 0 ? [] : [{ kind: LiveWaitKind.PROXIES_SYNCED, objects: istio.filter((m) => groupOf(m.apiVersion) === NETWORKING) }];
  },
  afterDelete(deleted) {
    return deleted.some(isIstio) ? [{ kind: LiveWaitKind.PROXIES_SYNCED, objects: [] }] : [];
  },
};
