/**
 * A plan is checked on what its stages are: the desired state of each stage of a sample release
 * (default props) is checked after the one before it, with every router that can express all of
 * its stages (a plan does not know which one will run it; the release checks its own stage again
 * with its own router and props). No construct is built.
 */
import { formatValue } from '../_validation';
import { ResolvedRelease } from './_desired-state';
import { ReleaseStage } from '../plan/release-stage';
import { checkManifests } from '../routing/_registry';
import { TrafficRouter } from '../routing/router';
import { readOptions, throwIfUnsafe } from '../safety/_engine';
import { SafetyViolation } from '../safety/safety-rule';

const SAMPLE_NAMESPACE = 'default';

/**
 * Longest version a release can deploy: its Deployment (and, with the Gateway API, its Service) is named
 * `<app>-<version>`, at most 63 characters, and an app name has at least one.
 */
const MAX_DEPLOYABLE_VERSION = 61;

/** Throws at the first stage that is unsafe on its own or after the stage before it. */
export function checkPlan(stages: ReleaseStage[]): void {
  const names = [...new Set(stages.flatMap((s) => s.versions))];
  const long = names.find((version) => version.length > MAX_DEPLOYABLE_VERSION);
  if (long !== undefined) {
    throw new Error(`ReleasePlan: 'version' must be at most ${MAX_DEPLOYABLE_VERSION} characters: a version's objects are named `
      + `'<app>-<version>', at most 63 characters, even with an app of one letter (it is ${long.length}), got ${formatValue(long)}`);
  }
  const versions = names.map((version) => ({ version, image: `example/app:${version}` }));
  // A version's objects are named '<app>-<version>' (at most 63 characters): with a long version, the shortest app
  // name, so the plan takes every version some app can deploy (see MAX_DEPLOYABLE_VERSION).
  const app = names.some((version) => `app-${version}`.length > 63) ? 'a' : 'app';
  // Istio first: it expresses every stage, so the other routers' checks only add what is theirs (named in the message).
  const routers = [TrafficRouter.istio(), TrafficRouter.gatewayApi(), TrafficRouter.serviceSelector()];
  for (const [r, router] of routers.entries()) {
    const by = r === 0 ? '' : ` with ${router.description}`;
    const sample = new ResolvedRelease('ReleasePlan', { app, port: 8080, versions, stage: stages[0], router }, SAMPLE_NAMESPACE);
    const states = expressible(sample, stages);
    let previous: any[] | undefined;
    states?.forEach((current, i) => {
      const stage = stages[i];
      throwIfUnsafe(checkManifests(current, previous, readOptions(SAMPLE_NAMESPACE)).map((v) => withPlaceholders(v, app)),
        `ReleasePlan stage '${stage.name}'${stage.previous ? ` (after '${stage.previous.name}')` : ''}${by}`);
      previous = current;
    });
  }
}

/**
 * A violation of the sample release told without the names the user never wrote: its objects (`VirtualService/app`,
 * `Deployment/app-v2`, `Service default/app-v2`) and host (`app.default.svc.cluster.local`) become `<app>` and
 * `<namespace>` (a plan does not know its releases' app or namespace), e.g. `Deployment/<app>-v2`.
 */
function withPlaceholders(v: SafetyViolation, app: string): SafetyViolation {
  const text = (s: string) => s
    .split(`${app}.${SAMPLE_NAMESPACE}.svc.cluster.local`).join('<app>.<namespace>.svc.cluster.local')
    .replace(new RegExp(`\\b(?:([A-Z][A-Za-z]*)|${SAMPLE_NAMESPACE})/${app}(?![a-z0-9.])`, 'g'), (_, kind) => `${kind ?? '<namespace>'}/<app>`);
  return { ...v, object: text(v.object), message: text(v.message), fix: text(v.fix) };
}

/** The manifests of every stage with the sample's router, or undefined when the router cannot express one of them. */
function expressible(sample: ResolvedRelease, stages: ReleaseStage[]): any[][] | undefined {
  const states: any[][] = [];
  for (const stage of stages) {
    try {
      states.push(sample.desiredState(stage).manifests);
    } catch {
      return undefined; // e.g. a weighted stage with a selector switch, or past an HTTPRoute's limits
    }
  }
  return states;
}
