/**
 * The routers, listed once: what the safety engine reads and checks a stage with. Adding a router to the safety
 * checks = its folder's `_plugin.ts` (reader and rules) + one line here.
 */
import { GATEWAY_API_PLUGIN } from './gateway-api/_plugin';
import { ISTIO_PLUGIN } from './istio/_plugin';
import { SERVICE_SELECTOR_PLUGIN } from './service-selector/_plugin';
import { checkManifestsWith, readStageWith } from '../safety/_engine';
import { ReadOptions, StageFacts } from '../safety/_facts';
import { RouterPlugin } from '../safety/_plugin';
import { SafetyViolation } from '../safety/safety-rule';

/** Every router, in the order their facts and violations are listed. */
export const ROUTER_PLUGINS: readonly RouterPlugin[] = [ISTIO_PLUGIN, GATEWAY_API_PLUGIN, SERVICE_SELECTOR_PLUGIN];

/** Every violation of `current` applied after `previous` (when given): errors first, then warnings, each in rule order. */
export function checkManifests(currentManifests: any[], previousManifests: any[] | undefined, options: ReadOptions): SafetyViolation[] {
  return checkManifestsWith(ROUTER_PLUGINS, currentManifests, previousManifests, options);
}

/** The facts of one stage (`other`: the stage it is compared with, see `RouterReader.complete`). */
export function readStage(manifests: any[], options: ReadOptions, other?: any[]): StageFacts {
  return readStageWith(ROUTER_PLUGINS, manifests, options, other);
}
