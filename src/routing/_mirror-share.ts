/**
 * The share of requests a mirror copies, as Envoy applies it. Istio hands Envoy a mirror percentage in millionths
 * of requests and drops the rest: `uint32(percent * 10000)` per MILLION, for a VirtualService `mirrorPercentage`
 * and for an HTTPRoute RequestMirror `fraction` or `percent`, which it converts to one (istio/istio
 * pilot/pkg/networking/core/route/route.go `MirrorPercent` and `translatePercentToFractionalPercent`;
 * pilot/pkg/config/kube/gateway/conversion.go `createMirrorFilter`). A finer share would be mirrored as a smaller
 * one, or not at all, without a word: the routers with mirrors refuse it.
 */
import { invalidProp, PathScope } from '../_validation';
import { ReleaseStage } from '../plan/release-stage';

/** The finest mirror share Envoy applies, in percent: one request in a million. */
export const MIRROR_PERCENT_STEP = 0.0001;

/** Throws unless the stage's mirror share is a whole number of millionths of requests. */
export function checkMirrorShare(scope: PathScope, stage: ReleaseStage, router: string): void {
  const percent = stage.mirror?.percent;
  if (percent === undefined) {
    return;
  }
  const millionths = percent / MIRROR_PERCENT_STEP;
  // A multiple of 0.0001 is a whole number of millionths up to the rounding of floating point (far below 1e-6).
  if (Math.abs(millionths - Math.round(millionths)) > 1e-6) {
    const applied = Math.floor(millionths) * MIRROR_PERCENT_STEP;
    const effect = applied === 0 ? 'would mirror nothing' : `would mirror ${Number(applied.toFixed(4))}%`;
    throw invalidProp(scope, 'stage.mirror.percent', percent,
      `must be a multiple of ${MIRROR_PERCENT_STEP} (one request in a million) with ${router} in stage '${stage.name}': Envoy mirrors whole millionths of requests and drops the rest, so this share ${effect}; round it to at most 4 decimals`);
  }
}
