/**
 * TRANSITIONAL — delete with the deprecated `checkManifests` / `readStage` of `_engine.ts` once `release/` and
 * `cli/` import them from `routing/_registry.ts` (the one list of routers). Until then the engine's old exports read
 * with this copy of that list, built from the same router modules it imported before.
 */
import { RouterPlugin } from './_plugin';
import { GATEWAY_API_READER } from '../routing/gateway-api/_reader';
import { GATEWAY_API_RULES } from '../routing/gateway-api/_rules';
import { ISTIO_READER } from '../routing/istio/_reader';
import { ISTIO_RULES } from '../routing/istio/_rules';
import { SERVICE_SELECTOR_READER } from '../routing/service-selector/_reader';

export const LEGACY_PLUGINS: readonly RouterPlugin[] = [
  { name: 'istio', reader: ISTIO_READER, rules: ISTIO_RULES },
  { name: 'gateway-api', reader: GATEWAY_API_READER, rules: GATEWAY_API_RULES },
  { name: 'service-selector', reader: SERVICE_SELECTOR_READER, rules: [] },
];
