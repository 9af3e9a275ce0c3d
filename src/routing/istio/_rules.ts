/**
 * Istio's own rules (one per file in `rules/`), on the stage as its reader read it, in the order their violations
 * are listed. The shared rules (`safety/rules/`) cover the rest through the reader's facts.
 */
import { IstioStage } from './_reader';
import { CLUSTER_DOMAIN } from './rules/cluster-domain';
import { DESTINATION_RULE_VISIBLE } from './rules/destination-rule-visible';
import { GATEWAYS_WITHOUT_MESH } from './rules/gateways-without-mesh';
import { MTLS_MODE } from './rules/mtls-mode';
import { ONE_VIRTUAL_SERVICE_PER_HOST } from './rules/one-virtual-service-per-host';
import { PROTOCOL } from './rules/protocol';
import { SERVICE_SELECTS_VERSION } from './rules/service-selects-version';
import { SUBSET_UNIQUE } from './rules/subset-unique';
import { RouterRuleInput } from '../../safety/_plugin';
import { Rule } from '../../safety/_rule';

export const ISTIO_RULES: ReadonlyArray<Rule<RouterRuleInput<IstioStage>>> = [
  CLUSTER_DOMAIN,
  SUBSET_UNIQUE,
  SERVICE_SELECTS_VERSION,
  DESTINATION_RULE_VISIBLE,
  ONE_VIRTUAL_SERVICE_PER_HOST,
  GATEWAYS_WITHOUT_MESH,
  PROTOCOL,
  MTLS_MODE,
];
