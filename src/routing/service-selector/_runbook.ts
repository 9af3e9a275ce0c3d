/**
 * The selector switch in the runbook: the release's Service (the object carrying the plan annotation) routes when its
 * selector names a version; routing is live when its EndpointSlices list only the ready pods of the version it now
 * selects.
 */
import { PLAN_ANNOTATION, VERSION_LABEL } from '../../_conventions';
import { LiveWaitKind, RouterRunbook } from '../_runbook';

/** A release's Service that selects a version: the routing object of `TrafficRouter.serviceSelector()`. */
function isSwitch(m: any): boolean {
  return m?.kind === 'Service' && m.apiVersion === 'v1' && typeof m.metadata?.annotations?.[PLAN_ANNOTATION] === 'string'
    && m.spec?.selector?.[VERSION_LABEL] !== undefined;
}

/** `k=v,...` in key order. */
function selectorText(service: any): string {
  return Object.entries(service?.spec?.selector ?? {}).map(([k, v]) => `${k}=${v}`).sort().join(',');
}

export const SERVICE_SELECTOR_RUNBOOK: RouterRunbook = {
  roleOf() {
    return undefined; // the Service is deleted with the other Services
  },
  afterApply(applied, from, namespace) {
    const ns = (m: any) => m?.metadata?.namespace ?? namespace;
    const before = (s: any) => from.find((m) => m?.kind === 'Service' && m.apiVersion === 'v1' && m.metadata?.name === s.metadata?.name && ns(m) === ns(s));
    const switched = applied.filter((s) => {
      const was = before(s);
      return isSwitch(s) && (was === undefined || selectorText(was) !== selectorText(s));
    });
    return switched.length === 0 ? [] : [{ kind: LiveWaitKind.ENDPOINTS_SWITCHED, objects: switched }];
  },
  afterDelete() {
    return [];
  },
};
