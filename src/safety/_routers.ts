/**
 * Every router's reader and rules, as the safety engine runs them on any manifests (a stage may
 * hold objects of several routers, and hand-written YAML of any). Adding a router: add its reader
 * and its rules here.
 */
import { ISTIO_READER } from '../routing/istio/_reader';
import { checkIstio } from '../routing/istio/_rules';
import { ReadOptions, RouterReader } from './_facts';
import { Report } from './_rules';

/** Router-specific rules, on the stage's manifests. */
export type RouterRules = (manifests: any[], options: ReadOptions, report: Report, previous?: any[]) => void;

export const READERS: RouterReader[] = [ISTIO_READER];

export const ROUTER_RULES: RouterRules[] = [checkIstio];
