/**
 * Istio's policies of a release's pods, as plain JSON: a PeerAuthentication requiring mutual TLS
 * (`strictMtls`) and an AuthorizationPolicy allow-list (`allowedCallers`). The routers that run
 * in an Istio mesh (`TrafficRouter.istio()`, and `TrafficRouter.gatewayApi()` with Istio as its
 * GAMMA implementation) emit them; the router-neutral core does not.
 *
 * In ambient mode with a waypoint, an allow-list attached to the pods (a `selector`) is enforced
 * by the destination ztunnel, which sees the waypoint's identity, not the caller's: the waypoint
 * does not impersonate its clients. So the callers are checked where their identity is known,
 * at the waypoint (a second AuthorizationPolicy with `targetRefs` to the release's Services), and
 * the ztunnel's policy admits the waypoint's service account besides the callers (who reach the
 * pods without the waypoint when they call a pod address, or from an ingress gateway not told to
 * use the waypoint).
 * @see https://istio.io/latest/docs/ambient/usage/l4-policy/ (istio/istio.io content/en/docs/ambient/usage/l4-policy/index.md:
 *   "Traffic arriving at the destination ztunnel will be coming from the waypoint's identity ... you should bind that
 *   policy to your waypoint proxy. An additional TCP policy may be applied to your workload ...")
 * @see https://istio.io/latest/docs/ambient/getting-started/enforce-auth-policies/ (a waypoint policy: `targetRefs` to the Service)
 */
import { APP_LABEL, DNS_1123_LABEL, DNS_1123_SUBDOMAIN, waypointPolicyName } from '../_conventions';
import { invalidProp, PathScope } from '../_validation';
import { ReleaseContext, RouterInput, RoutingObject } from './_router';
import { AuthorizationPolicy, AuthorizationPolicySpecAction, PeerAuthentication, PeerAuthenticationSpecMtlsMode } from '../imports/security.istio.io';

/** AuthorizationPolicy `source.serviceAccounts` maxItems (security.istio.io CRD of Istio 1.30). */
const MAX_SERVICE_ACCOUNTS = 16;
/** AuthorizationPolicy `targetRefs` maxItems (security.istio.io CRD of Istio 1.30). */
export const MAX_POLICY_TARGETS = 16;

/** An ambient waypoint the release's Services use, and those Services. */
export interface WaypointBinding {
  /** Name of the waypoint (a Gateway of class istio-waypoint) in the release's namespace. */
  readonly name: string;
  /** Every Service of the release bound to it (the version-free Service first). */
  readonly services: string[];
}

/**
 * The service account of a waypoint: Istio names a waypoint's Deployment and ServiceAccount after its Gateway (the
 * istio-waypoint class has `disableNameSuffix`: istio/istio pilot/pkg/config/kube/gateway/deploymentcontroller.go,
 * unless the Gateway's `gateway.istio.io/service-account` annotation says otherwise), as `<namespace>/<name>`.
 */
export function waypointServiceAccount(namespace: string, waypoint: string): string {
  return `${namespace}/${waypoint}`;
}

/** The PeerAuthentication and AuthorizationPolicies the props ask for (with a waypoint: one for it, one for the ztunnel). */
export function istioPolicies(ctx: ReleaseContext, waypoint?: WaypointBinding): RoutingObject[] {
  const props = ctx.props;
  const selector = { matchLabels: { [APP_LABEL]: ctx.app } };
  const policies: RoutingObject[] = [];
  if (props.strictMtls) {
    policies.push({
      id: 'PeerAuthentication',
      role: 'policy',
      json: PeerAuthentication.manifest({ metadata: ctx.metadata, spec: { selector, mtls: { mode: PeerAuthenticationSpecMtlsMode.STRICT } } }),
    });
  }
  if (props.allowedCallers) {
    const { serviceAccounts, namespaces } = props.allowedCallers;
    // One source per kind of caller: fields of one source are ANDed, and Istio refuses
    // serviceAccounts together with namespaces in one source (a CEL rule of its CRD).
    const callers = [
      ...(serviceAccounts?.length ? [{ source: { serviceAccounts } }] : []),
      ...(namespaces?.length ? [{ source: { namespaces } }] : []),
    ];
    const admitted = waypoint ? [...callers, { source: { serviceAccounts: [waypointServiceAccount(ctx.namespace, waypoint.name)] } }] : callers;
    policies.push({
      id: 'AuthorizationPolicy',
      role: 'policy',
      json: AuthorizationPolicy.manifest({
        metadata: ctx.metadata,
        spec: { selector, action: AuthorizationPolicySpecAction.ALLOW, rules: [{ from: admitted }] },
      }),
    });
    if (waypoint) {
      policies.push({
        id: 'WaypointAuthorizationPolicy',
        role: 'policy',
        json: AuthorizationPolicy.manifest({
          metadata: { ...ctx.metadata, name: waypointPolicyName(ctx.app) },
          spec: {
            targetRefs: waypoint.services.map((name) => ({ group: '', kind: 'Service', name })),
            action: AuthorizationPolicySpecAction.ALLOW,
            rules: [{ from: callers }],
          },
        }),
      });
    }
  }
  return policies;
}

/** Refuses an allow-list that denies everyone, or that Istio's CRD refuses. */
export function checkAllowedCallers(scope: PathScope, callers: RouterInput['allowedCallers']): void {
  if (!callers) {
    return;
  }
  if (!callers.serviceAccounts?.length && !callers.namespaces?.length) {
    throw invalidProp(scope, 'allowedCallers', callers, 'must name at least one service account or namespace (an empty allow-list denies every caller)');
  }
  const accounts = callers.serviceAccounts ?? [];
  if (accounts.length > MAX_SERVICE_ACCOUNTS) {
    throw invalidProp(scope, 'allowedCallers.serviceAccounts', accounts.length,
      `must list at most ${MAX_SERVICE_ACCOUNTS} service accounts (AuthorizationPolicy source.serviceAccounts maxItems ${MAX_SERVICE_ACCOUNTS}): allow their namespace instead`);
  }
  for (const account of accounts) {
    const [namespace, name, ...rest] = account.split('/');
    if (rest.length > 0 || name === undefined || !DNS_1123_LABEL.test(namespace) || !DNS_1123_SUBDOMAIN.test(name)) {
      throw invalidProp(scope, 'allowedCallers.serviceAccounts', account,
        "must be '<namespace>/<service-account>': a namespace (a DNS-1123 label) and a service account name (a DNS-1123 subdomain)");
    }
  }
  for (const namespace of callers.namespaces ?? []) {
    if (!DNS_1123_LABEL.test(namespace)) {
      throw invalidProp(scope, 'allowedCallers.namespaces', namespace, 'must be a namespace name (a DNS-1123 label)');
    }
  }
}
