/**
 * Istio's policies of a release's pods, as plain JSON: a PeerAuthentication requiring mutual TLS
 * (`strictMtls`) and an AuthorizationPolicy allow-list (`allowedCallers`). The routers that run
 * in an Istio mesh (`TrafficRouter.istio()`, and `TrafficRouter.gatewayApi()` with Istio as its
 * GAMMA implementation) emit them; the router-neutral core does not.
 */
import { APP_LABEL, DNS_1123_LABEL, DNS_1123_SUBDOMAIN } from '../_conventions';
import { invalidProp, PathScope } from '../_validation';
import { ReleaseContext, RouterInput, RoutingObject } from './_router';
import { AuthorizationPolicy, AuthorizationPolicySpecAction, PeerAuthentication, PeerAuthenticationSpecMtlsMode } from '../imports/security.istio.io';

/** AuthorizationPolicy `source.serviceAccounts` maxItems (security.istio.io CRD of Istio 1.30). */
const MAX_SERVICE_ACCOUNTS = 16;

/** The PeerAuthentication and AuthorizationPolicy the props ask for. */
export function istioPolicies(ctx: ReleaseContext): RoutingObject[] {
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
    policies.push({
      id: 'AuthorizationPolicy',
      role: 'policy',
      json: AuthorizationPolicy.manifest({
        metadata: ctx.metadata,
        spec: {
          selector,
          action: AuthorizationPolicySpecAction.ALLOW,
          // One source per kind of caller: fields of one source are ANDed, and Istio refuses
          // serviceAccounts together with namespaces in one source (a CEL rule of its CRD).
          rules: [{
            from: [
              ...(serviceAccounts?.length ? [{ source: { serviceAccounts } }] : []),
              ...(namespaces?.length ? [{ source: { namespaces } }] : []),
            ],
          }],
        },
      }),
    });
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
