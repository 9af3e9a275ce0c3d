/**
 * The Gateway API's own rules (one per file in `rules/`), on the stage as its reader read it, in the order their
 * violations are listed. The shared rules cover the rest through the reader's facts: service-defined,
 * service-before-route, destination-ready, service-removed-while-routed, deployment-removed-while-service,
 * stale-service, weights, catch-all-route (GAMMA and Gateways answer 404 to a request no rule matches), capacity,
 * retry-budget.
 */
import { GatewayApiStage } from './_reader';
import { HTTP_ROUTE_PROTOCOL } from './rules/protocol';
import { REFERENCE_GRANT } from './rules/reference-grant';
import { SERVICE_SELECTS_VERSION } from './rules/service-selects-version';
import { RouterRuleInput } from '../../safety/_plugin';
import { Rule } from '../../safety/_rule';

export const GATEWAY_API_RULES: ReadonlyArray<Rule<RouterRuleInput<GatewayApiStage>>> = [
  SERVICE_SELECTS_VERSION,
  REFERENCE_GRANT,
  HTTP_ROUTE_PROTOCOL,
];
