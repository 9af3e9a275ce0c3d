/**
 * The routers, listed once: what the safety engine reads and checks a stage with, and what the runbook waits for.
 * Adding a router = its folder's `_plugin.ts` (reader and rules) and `_runbook.ts` + one line in each list here.
 */
import { RouterRunbook } from './_runbook';
import { GATEWAY_API_PLUGIN } from './gateway-api/_plugin';
import { GATEWAY_API_RUNBOOK } from './gateway-api/_runbook';
import { ISTIO_PLUGIN } from './istio/_plugin';
import { ISTIO_RUNBOOK } from './istio/_runbook';
import { SERVICE_SELECTOR_PLUGIN } from './service-selector/_plugin';
import { SERVICE_SELECTOR_RUNBOOK } from './service-selector/_runbook';
import { checkManifestsWith, readStageWith } from '../safety/_engine';
import { ReadOptions, StageFacts } from '../safety/_facts';
import { RouterPlugin } from '../safety/_plugin';
import { SafetyViolation } from '../safety/safety-rule';

/** Every router, in the order their facts and violations are listed. */
export const ROUTER_PLUGINS: readonly RouterPlugin[] = [ISTIO_PLUGIN, GATEWAY_API_PLUGIN, SERVICE_SELECTOR_PLUGIN];

/** Every router, as the runbook knows it. */
export const ROUTER_RUNBOOKS: readonly RouterRunbook[] = [ISTIO_RUNBOOK, GATEWAY_API_RUNBOOK, SERVICE_SELECTOR_RUNBOOK];

/** Every violation of `current` applied after `previous` (when given): errors first, then warnings, each in rule order. */
export function checkManifests(currentManifests: any[], previousManifests: any[] | undefined, options: ReadOptions): SafetyViolation[] {
  return checkManifestsWith(ROUTER_PLUGINS, currentManifests, previousManifests, options);
}

/** The facts of one stage (`other`: the stage it is compared with, see `RouterReader.complete`). */
export function readStage(manifests: any[], options: ReadOptions, other?: any[]): StageFacts {
  return readStageWith(ROUTER_PLUGINS, manifests, options, other);
}
