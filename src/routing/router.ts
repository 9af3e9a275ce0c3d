import { IstioRouter } from './istio/router';
import { RouterImpl } from './_router';

/**
 * How a `MeshRelease` routes traffic between versions. The release plan is the same for every
 * router; a router that cannot express a stage (e.g. a 10% weight with a Service selector)
 * refuses it and names one that can.
 *
 * | router | a routable version is | traffic split |
 * |---|---|---|
 * | `TrafficRouter.istio()` | a DestinationRule subset | VirtualService weights, header routes, mirror |
 */
export class TrafficRouter {
  /**
   * Istio's classic API: a DestinationRule with one subset per routable version and a
   * VirtualService (header routes, then the weighted catch-all with retries, timeout and mirror).
   * Needs Istio with sidecars (or a waypoint that supports subsets).
   */
  public static istio(): TrafficRouter {
    return new TrafficRouter(new IstioRouter());
  }

  /** @internal */
  public readonly _impl: RouterImpl;

  private constructor(impl: RouterImpl) {
    this._impl = impl;
  }

  /** How the router is written, e.g. `TrafficRouter.istio()`. */
  public get description(): string {
    return this._impl.description;
  }
}
