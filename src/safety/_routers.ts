/**
 * Every router's reader and rules, as the safety engine runs them on any manifests (a stage may
 * hold objects of several routers, and hand-written YAML of any). Adding a router: add its reader
 * and its rules here.
 */
import { ReadOptions, RouterReader } from './_facts';
import { Report } from './_rules';
import { GATEWAY_API_READER } from '../routing/gateway-api/_reader';
import { checkGatewayApi } from '../routing/gateway-api/_rules';
import { ISTIO_READER } from '../routing/istio/_reader';
import { checkIstio } from '../routing/istio/_rules';
import { SERVICE_SELECTOR_READER } from '../routing/service-selector/_reader';

/** Router-specific rules, on the stage's manifests. */
export type RouterRules = (manifests: any[], options: ReadOptions, report: Report, previous?: any[]) => void;

/** Readers of every router (the selector switch has no rules of its own: the shared rules cover it). */
export const READERS: RouterReader[] = [ISTIO_READER, GATEWAY_API_READER, SERVICE_SELECTOR_READER];

export const ROUTER_RULES: RouterRules[] = [checkIstio, checkGatewayApi];
