import { invalidProp, PathScope } from '../_validation';
import { RouterInput } from './_router';

/**
 * Refuses the props only `TrafficRouter.istio()` honours, naming what to use instead with
 * `router` (`instead` by prop; the traffic policies have no router option).
 */
export function checkIstioOnly(scope: PathScope, props: RouterInput, router: string, instead: { hosts: string; gateways: string }): void {
  const refuse = (prop: string, value: unknown, alternative: string) => {
    throw invalidProp(scope, prop, value, `applies only to TrafficRouter.istio(); with ${router}, ${alternative}`);
  };
  if (props.hosts !== undefined) {
    refuse('hosts', props.hosts, instead.hosts);
  }
  if (props.gateways !== undefined) {
    refuse('gateways', props.gateways, instead.gateways);
  }
  const policy = 'drop it (a DestinationRule traffic policy: configure connection pools, outlier detection and TLS with your implementation\'s own policy objects)';
  if (props.trafficPolicy !== undefined) {
    refuse('trafficPolicy', props.trafficPolicy, policy);
  }
  for (const v of props.versions) {
    if (v.trafficPolicy !== undefined) {
      refuse(`versions[${v.version}].trafficPolicy`, v.trafficPolicy, policy);
    }
  }
}
